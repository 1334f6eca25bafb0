"""Errors of notifications."""

from peerview.errors import NotFound


class NotificationNotFound(NotFound):
    code = "NOTIFICATION_NOT_FOUND"
    title = "Notification not found"
