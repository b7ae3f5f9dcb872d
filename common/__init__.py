"""Django plumbing every app may use and none owns: bulk inserts, templated e-mail, content
negotiation and HTTP answers, Markdown. Imports no app (the layers contract checks it)."""
