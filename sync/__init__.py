"""Tandem's scheduled jobs: one APScheduler process that moves data between partners."""
