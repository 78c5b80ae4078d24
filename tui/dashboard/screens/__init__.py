"""The dashboard's screens: the live dashboard, the submit form, the history, help and confirmations."""
