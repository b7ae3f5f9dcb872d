"""Campus sign-on: staff and learners sign in through their institution's identity provider
(SAML 2.0 or OpenID Connect), get an account just in time, and bring the identifiers the
institution vouches for (student number, sign-in name) into their backpack."""
