"""Chat front ends (Discord, Slack) over one shared chat core; they use only `imagine.client`."""
