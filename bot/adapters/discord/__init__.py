"""The Discord adapter (discord.py): slash commands, buttons, modals, daily posts. Translation only."""
