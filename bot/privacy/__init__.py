"""Privacy: erasing, retention and access requests (top domain layer); pii detection is bot.pii."""
