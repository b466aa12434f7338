"""The site file: zones, conduits, teams, the channel register and asset overrides."""
