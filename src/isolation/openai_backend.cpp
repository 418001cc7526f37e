#include "rdic/isolation/openai_backend.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "rdic/error.h"
#include "rdic/evaluation/questions.h"
#include "rdic/isolation/openai_client.h"
#include "rdic/isolation/prompt.h"
#include "rdic/printable.h"

namespace rdic {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// One client per request thread, from the backend's options.
OpenAiClient make_client(const BackendUrl& url, const OpenAiBackendOptions& opt) {
    return OpenAiClient(url,
                        {.api_key = opt.api_key, .timeout_s = opt.timeout_s, .retry = opt.retry});
}

// fn(i, connection) for i in [0, n), at most `concurrency` at once. After a failure no new item
// starts; the items in flight finish (each bounded by the timeout). Rethrows the first failure.
template <class Fn>
void for_each_request(size_t n, const BackendUrl& url, const OpenAiBackendOptions& opt, Fn fn) {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::vector<std::exception_ptr> errors(n);
    auto worker = [&] {
        OpenAiClient conn = make_client(url, opt);
        for (;;) {
            if (failed) return;
            const size_t i = next++;
            if (i >= n) return;
            try {
                fn(i, conn);
            } catch (...) {
                errors[i] = std::current_exception();
                failed = true;
            }
        }
    };
    const size_t n_threads = std::min<size_t>(n, static_cast<size_t>(opt.concurrency));
    std::vector<std::thread> threads;
    for (size_t t = 1; t < n_threads; ++t) threads.emplace_back(worker);
    if (n_threads > 0) worker();
    for (std::thread& t : threads) t.join();
    for (const std::exception_ptr& e : errors) {
        if (e) std::rethrow_exception(e);
    }
}

StopReason stop_reason_of(const CompletionReply& r) {
    if (r.finish_reason == "length") return StopReason::max_tokens;
    return r.stopped_by_string ? StopReason::stop_string : StopReason::end_of_generation;
}

class OpenAiBackend final : public Backend {
public:
    OpenAiBackend(std::shared_ptr<const Model> model, ExecutorOptions exec,
                  OpenAiBackendOptions opt)
        : model_(std::move(model)),
          exec_(std::move(exec)),
          opt_(std::move(opt)),
          url_(parse_backend_url(opt_.url)),
          prompts_(*model_, exec_.system_prompt, exec_.chat_template) {
        if (opt_.concurrency < 1 || opt_.concurrency > 256) {
            throw Error(ErrorCode::invalid_argument,
                        "--backend-concurrency must be in [1, 256], is " +
                            std::to_string(opt_.concurrency));
        }
        if (!(opt_.timeout_s > 0 && opt_.timeout_s <= 86400)) {
            throw Error(ErrorCode::invalid_argument, "--backend-timeout must be in (0, 86400] s");
        }
        if (opt_.retry.max_attempts < 1 || opt_.retry.max_attempts > 100) {
            throw Error(ErrorCode::invalid_argument, "--backend-retries must be in [0, 99]");
        }
        if (opt_.served_model.empty()) opt_.served_model = model_->info().path.filename().string();
        std::random_device rd;
        nonce_ = std::to_string(rd()) + "-" + std::to_string(rd());
        if (opt_.check_on_start) {
            OpenAiClient c = make_client(url_, opt_);
            c.request(c.models_path(), "");
        }
    }

    std::string identity() const override { return url_.text(); }
    std::string device() const override { return "remote"; }

    ConditionResult run(const Example& ex, const Plan& plan) override {
        if (std::string why = check_limits(*model_, ex, plan, exec_); !why.empty()) {
            throw Error(ErrorCode::context_overflow, why);
        }
        const auto t0 = Clock::now();
        ConditionResult result;
        result.condition = plan.condition;
        result.kv_measured = false;
        result.n_sessions = 0;
        std::vector<std::pair<std::string, std::string>> finished;
        std::vector<std::optional<OutputResult>> outs(plan.outputs.size());

        // Topic outputs together; each synthesis after the outputs before it (plan order).
        std::vector<size_t> topics, synth;
        for (size_t i = 0; i < plan.outputs.size(); ++i) {
            (plan.outputs[i].kind == ClusterKind::topic ? topics : synth).push_back(i);
        }
        auto run_outputs = [&](const std::vector<size_t>& which) {
            std::vector<Job> jobs;
            for (size_t i : which) {
                const OutputPlan& o = plan.outputs[i];
                const std::string messages =
                    render_messages(ex, o.message_inputs, finished, plan.prompt_options);
                Job j = job(ex, plan, o.context_key, o.context, messages, o.request);
                j.request.seed = exec_.sampling.seed + static_cast<uint32_t>(i);
                j.request.max_tokens = exec_.max_tokens;
                j.request.ignore_eos = exec_.ignore_eog;
                if (exec_.ignore_eog) j.request.stop.clear();
                j.visible = prompts_.visible_text(o.context, messages, o.request);
                jobs.push_back(std::move(j));
            }
            const auto start = Clock::now();
            send(jobs);
            for (size_t k = 0; k < which.size(); ++k) {
                const OutputPlan& o = plan.outputs[which[k]];
                const Job& j = jobs[k];
                OutputResult r;
                r.cluster_id = o.cluster_id;
                r.kind = o.kind;
                r.text = j.reply.text;
                r.n_tokens = static_cast<int32_t>(j.reply.completion_tokens);
                r.n_context_tokens = static_cast<int32_t>(j.reply.prompt_tokens);
                r.stop_reason = stop_reason_of(j.reply);
                r.prompt_copy_share = copy_share(j.reply.text, j.visible);
                r.n_cached_tokens = j.reply.cached_tokens;
                r.timing.n_prompt_tokens = r.n_context_tokens;
                r.timing.n_generated = r.n_tokens;
                r.timing.total_ms = j.wall_ms;
                r.timing.prefill_ms = j.reply.prompt_ms.value_or(0);
                // No streaming: the first token's time is the engine's prompt time when it
                // reports one, else the whole request (an upper bound). From the condition's start.
                r.timing.ttft_ms = std::chrono::duration<double, std::milli>(start - t0).count() +
                                   j.reply.prompt_ms.value_or(j.wall_ms);
                r.timing.decode_tokens_per_s = j.reply.predicted_per_second.value_or(0);
                account(result, j);
                finished.emplace_back(o.cluster_id, j.reply.text);
                outs[which[k]] = std::move(r);
            }
        };
        if (!topics.empty()) run_outputs(topics);
        for (size_t i : synth) run_outputs({i});
        for (auto& o : outs) result.outputs.push_back(std::move(*o));
        result.total_ms = ms_since(t0);

        if (!plan.questions.empty()) {
            const auto q0 = Clock::now();
            std::vector<Job> jobs;
            for (size_t i = 0; i < plan.questions.size(); ++i) {
                const QuestionPlan& q = plan.questions[i];
                Job j = job(ex, plan, q.context_key, q.context,
                            render_messages(ex, q.message_inputs, finished, plan.prompt_options),
                            q.request);
                j.request.seed = exec_.sampling.seed + kAnswerSeedOffset + static_cast<uint32_t>(i);
                j.request.max_tokens = exec_.answer_max_tokens;
                jobs.push_back(std::move(j));
            }
            send(jobs);
            for (size_t i = 0; i < jobs.size(); ++i) {
                AnswerResult a;
                a.question_id = plan.questions[i].question_id;
                a.text = jobs[i].reply.text;
                a.n_tokens = static_cast<int32_t>(jobs[i].reply.completion_tokens);
                a.n_context_tokens = static_cast<int32_t>(jobs[i].reply.prompt_tokens);
                a.stop_reason = stop_reason_of(jobs[i].reply);
                result.answers.push_back(std::move(a));
            }
            result.questions_ms = ms_since(q0);
        }
        return result;
    }

private:
    struct Job {
        CompletionRequest request;
        std::string visible;  // the prompt's visible text (copy share)
        CompletionReply reply;
        double wall_ms = 0;
    };

    // The request for head + context + messages + request + tail, exactly as PromptBuilder
    // composes it in-process (tokens), or its text.
    Job job(const Example& ex, const Plan& plan, const std::string& context_key,
            const std::string& context, const std::string& messages,
            const std::string& request) const {
        Job j;
        CompletionRequest& r = j.request;
        r.model = opt_.served_model;
        if (opt_.prompt_as_text) {
            r.prompt_text = prompts_.head_text() + PromptBuilder::context_block(context) +
                            messages + request + prompts_.tail_text();
        } else {
            r.prompt_tokens = prompts_.head();
            const Tokens c = prompts_.context(context);
            const Tokens q = prompts_.request(messages, request);
            r.prompt_tokens.insert(r.prompt_tokens.end(), c.begin(), c.end());
            r.prompt_tokens.insert(r.prompt_tokens.end(), q.begin(), q.end());
        }
        r.temperature = exec_.sampling.temperature;
        r.top_k = exec_.sampling.top_k;
        r.top_p = exec_.sampling.top_p;
        r.min_p = exec_.sampling.min_p;
        r.stop = prompts_.stops();
        if (opt_.send_cache_salt) {
            r.cache_salt = cache_salt_for(nonce_, ex.id, to_string(plan.condition), context_key);
        }
        return j;
    }

    void send(std::vector<Job>& jobs) const {
        const std::string path = url_.completions_path();
        const std::string where = url_.text_without_path() + path;
        for_each_request(jobs.size(), url_, opt_, [&](size_t i, OpenAiClient& conn) {
            const auto t = Clock::now();
            const std::string body = conn.request(path, completion_body(jobs[i].request));
            jobs[i].reply = parse_completion_reply(body, where);
            jobs[i].wall_ms = ms_since(t);
        });
    }

    static void account(ConditionResult& r, const Job& j) {
        const int64_t cached = j.reply.cached_tokens.value_or(0);
        r.n_prefill_tokens += j.reply.prompt_tokens - cached;
        if (j.reply.cached_tokens)
            r.n_cached_prompt_tokens = r.n_cached_prompt_tokens.value_or(0) + cached;
        r.prefill_ms += j.reply.prompt_ms.value_or(0);
        r.decode_ms += j.reply.prompt_ms ? j.wall_ms - *j.reply.prompt_ms : 0;
    }

    std::shared_ptr<const Model> model_;
    ExecutorOptions exec_;
    OpenAiBackendOptions opt_;
    BackendUrl url_;
    PromptBuilder prompts_;
    std::string nonce_;
};

}  // namespace

std::string read_api_key_file(const std::filesystem::path& file, const std::string& option) {
    std::error_code ec;
    std::ifstream in(file, std::ios::binary);
    if (!in || std::filesystem::is_directory(file, ec)) {
        throw Error(ErrorCode::file_not_found,
                    option + " " + printable_path(file) + ": cannot read");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string key = ss.str();
    const auto first = key.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        throw Error(ErrorCode::invalid_argument, option + " " + printable_path(file) + ": empty");
    }
    key = key.substr(first, key.find_last_not_of(" \t\r\n") - first + 1);
    if (key.find_first_of("\r\n") != std::string::npos) {
        throw Error(ErrorCode::invalid_argument, option + " " + printable_path(file) +
                                                     ": holds several lines (one key expected)");
    }
    return key;
}

std::unique_ptr<Backend> make_openai_backend(std::shared_ptr<const Model> model,
                                             ExecutorOptions exec, OpenAiBackendOptions options) {
    return std::make_unique<OpenAiBackend>(std::move(model), std::move(exec), std::move(options));
}

}  // namespace rdic
