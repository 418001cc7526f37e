"""Copies of the splits whose user messages carry their conversation so far, for dumping a second
1.5B vector per message that reads the message *with* what came before (an "opening view"; the
router's own vector reads the message alone). Analysis input only, train and dev for choosing;
test is dumped beside them but scored only once a setting is written down.

  make_views.py OUT_DIR
writes OUT_DIR/{prev,list}/{train,dev,test}/*.json:
  prev: "Previous message: <the previous message>\n\nNew message: <the message>"
  list: "Earlier messages:\n- <each earlier message, oldest first, at most the last 8>\n\nNew
        message: <the message>"
Earlier messages are cut to 400 (prev) or 160 (list) characters at a word boundary; a
conversation's first message has "(none)". The templates (views.txt) ask whether the new message
continues or starts a matter; the vector is the last token's state after that question.
"""
import json
import pathlib
import sys


def cut(text, n):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + " ..."


def view(kind, earlier, text):
    if kind == "prev":
        prev = cut(earlier[-1], 400) if earlier else "(none)"
        return f"Previous message: {prev}\n\nNew message: {text}"
    lines = "\n".join(f"- {cut(e, 160)}" for e in earlier[-8:]) or "(none)"
    return f"Earlier messages:\n{lines}\n\nNew message: {text}"


def main():
    out = pathlib.Path(sys.argv[1])
    for kind in ("prev", "list"):
        for split in ("train", "dev", "test"):
            d = out / kind / split
            d.mkdir(parents=True, exist_ok=True)
            for f in sorted(pathlib.Path("data", split).glob("*.json")):
                ex = json.load(open(f))
                # The loader checks that answers, lures and canaries stay in their own cluster's
                # turns, which a message carrying its predecessors breaks. Routing needs none of
                # them: written as the train split's format (v1, no questions).
                ex["format"] = "rdic.dataset/v1"
                ex.pop("questions", None)
                ex.pop("shared_entities", None)
                for c in ex["clusters"]:
                    c.pop("canaries", None)
                # Only user messages are routed (an assistant turn joins the topic before it), and
                # only they are the "earlier messages"; v1 has no assistant turns.
                ex["turns"] = [t for t in ex["turns"] if t.get("role", "user") == "user"]
                earlier = []
                for t in ex["turns"]:
                    text = t["text"]
                    t["text"] = view(kind, earlier, text)
                    earlier.append(text)
                json.dump(ex, open(d / f.name, "w"), ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
