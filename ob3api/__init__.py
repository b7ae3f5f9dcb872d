"""The 1EdTech Open Badges 3.0 API at /ims/ob/v3p0/: discovery, dynamic client
registration, the learner's credentials and profile."""
