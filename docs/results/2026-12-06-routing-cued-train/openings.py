import json,sys
j=json.load(open(sys.argv[1]))
found=missed=false=0; per=[]
for e in j['examples']:
    seen=set(); 
    for t in e['assignment']:
        lab=t['label']; r=t.get('route')
        is_open = bool(seen) and lab not in seen
        seen.add(lab)
        if r is None: continue
        if r['probe_p']==-1 and not seen-{lab}: continue  # first turn
        if is_open and r['opened']: found+=1
        elif is_open: missed+=1
        elif r['opened']: false+=1
print(f"openings found {found}, missed {missed}, false openings {false}")
