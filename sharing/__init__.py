"""What the public sees of a badge: the credential's page (HTML for people, the exact signed
JSON for machines), its share cards, LinkedIn and embed links, the achievement and issuer
pages. It sits above ``earners`` because the learner's privacy choices decide what the badge
page shows, and each view of it is counted for the learner."""
