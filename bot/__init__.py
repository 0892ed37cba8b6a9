"""The Telegram bot (issue 5).

    bot.ask            the question engine: plain Chinese questions → answers (also `xxgk ask`)
    bot.app            build_application(settings, engine): the python-telegram-bot Application
    bot.commands       the command table (/help and the menu are built from it)
    bot.handlers       one small module per concern: access gate, questions and buttons, queries,
                       /ack and /dismiss, /start and /help, the error handler
    bot.views          what a command shows, a page at a time (engine and query layer → Answer)
    bot.services       what the handlers share (store, config, signer, conversations, rate limit)
    bot.callbacks      compact HMAC-signed callback data for inline buttons
    bot.conversations  what the bot remembers behind its buttons (in memory, bounded)
    bot.ratelimit      questions per user per minute
    bot.users          approved users (the bot_user table)

Run it with `xxgk bot`.
"""
