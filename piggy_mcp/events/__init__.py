"""Piggy's events: signed webhook deliveries verified, recorded, and pushed to subscribed clients (in this process
or, over Redis, on every replica), and the subscriptions that bring them here."""
