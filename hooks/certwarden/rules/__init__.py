"""Rules turn recognised objects into findings. Rules never read files."""
