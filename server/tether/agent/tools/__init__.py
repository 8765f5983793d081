"""Real tools the agent grounds its proposals in: ruff finds and fixes, commands verify."""
