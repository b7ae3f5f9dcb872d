"""Identity change: a badge re-issued to another of the learner's confirmed addresses."""
