"""The HTTP API's application side: request parsing, authorization, JSON shapes and the
read and write use cases the thin triggers in functions/ call. No azure.functions here."""
