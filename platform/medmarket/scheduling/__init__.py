"""Doctors' availability (weekly windows and exceptions, in their own time zone) and the
bookable slots generated from it, in UTC."""
