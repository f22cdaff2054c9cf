-- The events that reach one goal: its event name (pageview for a page goal) and an RE2
-- expression on the path (empty, matching every path, for an event goal).
-- Parameters: the event name, the expression (goals::Matcher).
(name = ? AND match(path, ?))
