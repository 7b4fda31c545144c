package filter

// Help describes the filter language for users (lstmlab runs --help shows
// it): the one place the search syntax is documented, with examples.
const Help = `Filter (--filter) and sort (--sort) language, MLflow's search syntax plus or, not and parentheses:

  params.hidden >= 256 and metrics.val_loss < 1.6 and status = finished
  name ilike 'moby%' or tags.team = 'nlp'
  metrics."cross-entropy-loss" < 2          keys with dashes, spaces or dots: "..." or ` + "`...`" + `
  attributes.run_id in ('3', '7')           run_id: the run id as text (=, !=, in, like)
  attributes.start_time > 1735689600000     times are milliseconds since 1970, as in MLflow,
  start > '2025-01-31 14:00'                  or dates ('2025-01-31', RFC 3339), local time
  name like '50\%%'                         like is case-sensitive; \% \_ \\ are a literal % _ \
  name ilike 'état%'                        ilike folds case for every script (É/é, Ω/ω, ß/ss)
  best.val_loss < 1.4 order by best.val_loss

Fields:
  params.<key>    a hyperparameter; compared as a number, or as text for text params
  metrics.<key>   the latest value of a metric
  best.<key>      its best value (lowest loss, highest accuracy); NaN and ±Inf never count
  tags.<key>      a tag
  attributes      id, run_id, name (run_name), experiment, status (running, finished, failed,
                  interrupted; MLflow's KILLED means interrupted), start (start_time, created),
                  end (end_time), duration and active (seconds: wall time, and training time
                  without the idle gaps between an interruption and its resume), backend, host,
                  git_commit, command, note, parent; "attributes." may prefix any of them
Operators: = != < <= > >= (numbers and text), like / ilike / not like / not ilike ('%' any text,
  '_' one character), in / not in (...), is null / is not null (a run lacking the key).
Keywords are case-insensitive; strings take '...' or "..." with '' or \' for a quote.
A misspelled param or metric matches nothing; lstmlab says so on stderr and names the closest keys.
Limits: 20000 bytes, 1000 conditions and values, 64 levels of parentheses and not.`
