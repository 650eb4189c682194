"""How the core words its replies, by area. Plain text with **bold**; adapters escape it per platform."""
