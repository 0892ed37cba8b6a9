"""The compliance engine: verdicts no single report can give (late, missing, carryover, duplicates),
findings with a life, and alerts routed to subscribers. Pure rules in their own modules; the
database work in sweep, lifecycle and alerts."""
