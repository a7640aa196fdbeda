"""datetime with fixed dates only: schedules, timedelta math, fixed-offset timezones, formatting and parsing."""
import calendar
from datetime import date, datetime, time, timedelta, timezone

start = date(2024, 1, 29)
print(start, start.isoformat(), start.strftime("%A %d %B %Y"), start.isocalendar()[:], start.weekday())
for months_ahead in range(4):
    y, m = divmod(start.month - 1 + months_ahead, 12)
    y += start.year
    m += 1
    day = min(start.day, calendar.monthrange(y, m)[1])
    print("billing date:", date(y, m, day))

meetings = [datetime(2024, 3, 10, 9, 30), datetime(2024, 3, 9, 23, 45), datetime(2024, 2, 29, 12)]
for dt in sorted(meetings):
    print(dt, dt.strftime("%Y-%m-%dT%H:%M %j %U"), dt.timestamp() if dt.tzinfo else "naive")
d = timedelta(days=1, hours=25, minutes=-3, microseconds=1500)
print(d, repr(d), d.total_seconds(), -d, d * 3, d / 7, d // timedelta(hours=1))
print(timedelta(days=-1, seconds=5), abs(timedelta(days=-1)), timedelta.max, timedelta.resolution)

utc = timezone.utc
ist = timezone(timedelta(hours=5, minutes=30), "IST")
nyc = timezone(timedelta(hours=-5))
event = datetime(2024, 12, 31, 23, 30, tzinfo=utc)
for tz in (utc, ist, nyc):
    local = event.astimezone(tz)
    print(local.isoformat(), local.tzname(), local.utcoffset(), local.strftime("%z %Z"))
print(event.timestamp(), datetime.fromtimestamp(1700000000, tz=utc), datetime.fromtimestamp(0, tz=ist))
print(event - datetime(2024, 1, 1, tzinfo=nyc))
try:
    print(event - datetime(2024, 1, 1))
except TypeError as e:
    print("TypeError:", e)
print(datetime.fromisoformat("2024-05-06T07:08:09.123456+02:00"), date.fromisoformat("2024-02-29"))
print(datetime.strptime("15/03/2024 17:05", "%d/%m/%Y %H:%M"), time(13, 5, 7, 250).isoformat("milliseconds"))
print(date(2024, 2, 29) + timedelta(days=365), date(2023, 12, 31).toordinal(), date.fromordinal(738000))
print(calendar.isleap(2100), calendar.leapdays(2000, 2100), calendar.weekday(2024, 7, 4))
print(calendar.month(2024, 2))
print(repr(datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=ist)), datetime.min, datetime.max)
try:
    date(2023, 2, 29)
except ValueError as e:
    print("ValueError:", e)
