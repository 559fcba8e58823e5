"""Browser journeys: the portal served for real and driven in headless Chromium."""
