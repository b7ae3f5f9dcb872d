"""Demo data for `make run`: an institution, its staff, micro-credentials, awards, a pathway
and an equivalence statement. Built through the same services the console uses; never loaded
in production."""
