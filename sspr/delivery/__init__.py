"""How codes leave sspr: email over SMTP, SMS through Twilio."""
