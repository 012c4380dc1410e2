from __future__ import annotations

from django.db import models


class Note(models.Model):
    text = models.CharField(max_length=200)
    written_on = models.CharField(max_length=64, help_text="the instance that took the write")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text


class Account(models.Model):
    name = models.CharField(max_length=50, unique=True)
    balance = models.IntegerField(default=0)
