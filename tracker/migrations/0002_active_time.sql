-- Active training time, and best values that are finite.
--
-- active_ms is the time a run has spent running, summed over its sessions
-- (the first start and every resume): each heartbeat and the final write
-- add the time since the previous heartbeat, and resuming restarts the
-- heartbeat clock, so the idle time between an interruption and its resume
-- is not counted. Runs recorded before this column existed get their wall
-- time from start to end (or last heartbeat), which includes such gaps.
ALTER TABLE runs ADD COLUMN active_ms INTEGER NOT NULL DEFAULT 0;
UPDATE runs SET active_ms = max(0, COALESCE(end_ms, heartbeat_ms) - start_ms);

-- An infinite value is never the best one (a loss of -Inf is a bug, not a
-- record). Earlier versions could keep one as best: recompute those rows
-- from the finite history (NULL when there is none). 1.7976931348623157e308
-- is the largest finite double.
UPDATE metric_summary SET
	best_step = (SELECT m.step FROM metrics m WHERE m.run_id = metric_summary.run_id AND m.key = metric_summary.key
		AND m.value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308
		ORDER BY CASE WHEN metric_summary.goal = 'max' THEN -m.value ELSE m.value END, m.step LIMIT 1),
	best_time_ms = (SELECT m.time_ms FROM metrics m WHERE m.run_id = metric_summary.run_id AND m.key = metric_summary.key
		AND m.value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308
		ORDER BY CASE WHEN metric_summary.goal = 'max' THEN -m.value ELSE m.value END, m.step LIMIT 1),
	best_value = (SELECT m.value FROM metrics m WHERE m.run_id = metric_summary.run_id AND m.key = metric_summary.key
		AND m.value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308
		ORDER BY CASE WHEN metric_summary.goal = 'max' THEN -m.value ELSE m.value END, m.step LIMIT 1)
WHERE best_value IS NOT NULL AND NOT (best_value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308);
