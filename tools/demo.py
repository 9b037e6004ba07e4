"""`make demo`: run the café report for the seeded day and print the message published to SNS."""

import json
import sys

from lambda_local.providers import load
from stack import invoke_function
from stack.functions import by_name
from stack.moto import sns_notifications

DEMO_DATE = "2026-11-20"


def main() -> None:
    report = by_name("sales-report")
    print(f"==> invoking {report.lambda_name} through the Invoke API for {DEMO_DATE}", flush=True)
    code, body = invoke_function(report, {"date": DEMO_DATE})
    result = json.loads(body)
    print(json.dumps(result, indent=2))
    if code != 200 or "messageId" not in result:
        sys.exit("the report function failed; see `make logs`")
    topic_arn = load().ref("ReportTopic")
    published = [n for n in sns_notifications(topic_arn) if n["message_id"] == result["messageId"]]
    if not published:
        sys.exit(f"message {result['messageId']} not found on {topic_arn}")
    print(f"==> published to {topic_arn} (read back from the local AWS endpoint)")
    print(f"Subject: {published[0]['subject']}\n")
    print(published[0]["message"])


if __name__ == "__main__":
    main()
