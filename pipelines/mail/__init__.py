"""The office's mailbox as the front door's other entrance.

    mailbox.py   the IMAP connection (imap-tools): new messages, INTERNALDATE, marking
    mime.py      what a message says: decoded names (RFC 2047/2231, GBK), attachments, auto-replies
    parts.py     which attachments are workbooks (content over extension), zips opened with the
                 reader's own guards, size limits: each part ends as a workbook or a verdict
    store.py     the durable processed-message record (data/mail/mail.sqlite)
    intake.py    receive: every workbook through the one receipt (warehouse/receipts.py)
    replies.py   answer: one threaded Chinese reply per message, after its returns are loaded
    cli.py       `jibao mail fetch` (receive only; `jibao run` loads and replies)

Dagster: pipelines/assets/mail.py (the mailbox sensor and the mail_replies asset).
"""
