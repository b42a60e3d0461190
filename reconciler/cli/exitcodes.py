"""Exit codes: a stable contract, documented in the README."""

OK = 0                 # success; with --detailed-exitcode, no changes
ERROR = 1              # bad manifest, bad flag, API error, ...
CHANGES_PRESENT = 2    # plan --detailed-exitcode: changes present
LOCKED = 3             # state is locked by another run
STALE_PLAN = 4         # saved plan is stale
PARTIAL = 5            # apply partly done: some changes failed, state saved, re-run resumes
REFUSED = 6            # refused: would destroy a protected resource
TIMED_OUT = 7          # bria wait --timeout: a training is still running
CANCELLED = 8          # cancelled (SIGINT/SIGTERM)
