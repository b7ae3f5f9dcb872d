"""E-mails to learners about their awards, and the claim page their link opens."""
