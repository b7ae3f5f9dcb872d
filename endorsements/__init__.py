"""Endorsements: an institution's owner vouches for another issuer or achievement, on this
platform or elsewhere, with a signed OB 3.0 ``EndorsementCredential`` that can be withdrawn;
requests for them between institutions; the endorsements new credentials carry."""
