"""`tether demo`: the learning loop shown on an example workspace with a simulated user."""
