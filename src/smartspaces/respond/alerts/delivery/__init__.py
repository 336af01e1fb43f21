"""Alert delivery: webhooks, an MQTT topic and TAK (Cursor-on-Target), every attempt recorded."""
