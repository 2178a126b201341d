"""English: the small texts the code puts together, and the WhatsApp channel's own messages.

Whole messages live in domain.yml (said through Rasa); see seva/messages/__init__.py.
"""

TEXTS = {
    # --- Words and labels put into buttons and lists
    "yes": "Yes",
    "no": "No",
    "yes_submit": "Yes, submit",
    "summary_documents": "📎 Supporting documents sent: {count}",
    "summary_add_documents": "📎 You may also send a photo or PDF of any supporting document now (optional).",
    "no_submit": "No",
    "apply_button": "Apply now",
    "services_button": "See services",
    "more": "More…",
    "list_label": "Choose",
    "unknown_value": "not known",
    "cancel_button": "Cancel",
    "skip_button": "Skip",
    "office_button": "Talk to the office",
    # --- How to write an answer, shown after two refused answers (utter_field_stuck_format)
    "example_date": "15/08/1990",
    "example_amount": "50000",
    "example_number": "{number}",
    "example_pincode": "751001",
    "example_phone": "9876543210",
    "example_name": "Ramesh Kumar Das",
    "example_text": "a few words, at least {min} letters",
    "example_document": "a photo or PDF, sent with 📎 (attach)",
    # --- Lines of a service card (utter_service_card) and of a submission (utter_submitted)
    "time_limit_days": "Time limit under ORTPSA: {days} days (public holidays are not counted).",
    "time_limit_text": "Time limit under ORTPSA, in the words of the source: “{limit}”.",
    "time_limit_unknown": "Time limit: I do not know it for this service. Please ask the office.",
    "officers": "Decided by: {designated}. Appeal to: {appellate}. Revision: {revisional}.",
    "documents": "Documents: {documents}",
    "documents_unknown": "Documents: my sources do not list them. Please ask at a Mo Seba Kendra or the office before you go.",
    "fee": "Fee: {fee}",
    "outdated": "⚠️ These details come from an old list ({vintage}) and may be out of date.",
    "due_date": "It must be decided within {days} days, by about {due} (public holidays are not counted, so the last date can be a little later).",
    # --- Lines of an application's status (utter_status)
    "status_day": "Time limit: {days} days, last date about {due}. Today is day {day} of {days}.",
    "status_note": "Note from the office: {note}",
    "status_submitted": "Submitted, waiting for the office",
    "status_in_progress": "Being processed by the office",
    "status_approved": "Approved",
    "status_rejected_label": "Rejected",
    "status_received": "Received by the department",
    "status_documents_needed": "Documents needed",
    "status_day_exact": "Time limit: {days} working days, last date {due}. Today is working day {day} of {days}.",
    "status_day_exact_start": "Time limit: {days} working days, last date {due}. The count starts on the next working day.",
    "due_date_exact": "It must be decided within {days} working days (public holidays are not counted): by {due}.",
    "delivery_delivered": "📨 Sent to the department on {date}.",
    "delivery_pending": "📨 Not with the department yet: we are sending it and will keep trying.",
    "delivery_failed": "📨 The department's system has not accepted it yet. Our team has been told and will fix it; you do not need to apply again.",
    # --- Pieces of the notices sent when the department changes an application (actions/notices.py)
    "notice_collect_link": "Your certificate: {url}",
    "notice_collect_office": "Collect it from the office of the {officer}.",
    "notice_collect_ask": "Ask the office where you applied how to collect it.",
    "notice_no_reason": "no reason was given",
    "appeal_button": "Complain or appeal",
    # --- Sent by the WhatsApp channel itself: a voice note's echo before the answer
    "voice_heard": "🎤 I heard: “{transcript}”",
    "voice_chose": "🎤 You chose: {choice}",
    "voice_chose_undo": "🎤 You chose: {choice}\nIf that is wrong, say or type “no”.",
    "voice_understood": "🎤 I understood: {choice}",
    # --- Sent by the WhatsApp channel itself when Rasa cannot answer
    "rate_limited": "⏳ You are sending messages very fast. Please wait a minute, then send your message again.",
    "try_again": "😔 Sorry, I could not answer that just now. Please send your message again in a minute.",
    # --- The acknowledgement receipt, a PDF after submission (seva/receipt.py)
    "receipt_caption": "🧾 Receipt of your application {reference}. Keep it: it shows what you applied for and by when it must be decided.",
    "receipt_not_sent": "🧾 I could not send the receipt of {reference} just now. Send “receipt {reference}” in a little while to get it.",
    "receipt_title": "Acknowledgement",
    "receipt_brand": "Seva · Odisha Right to Public Services Act, 2012",
    "receipt_lead": "Your application has been submitted. Keep this receipt.",
    "receipt_reference": "Reference number",
    "receipt_service": "Service",
    "receipt_submitted_on": "Submitted on",
    "receipt_whatsapp": "WhatsApp number",
    "receipt_time_limit": "Time limit",
    "receipt_time_limit_days": "{days} working days (public holidays are not counted)",
    "receipt_due": "To be decided by",
    "receipt_due_about": "about {date}",
    "receipt_designated": "Designated officer (decides)",
    "receipt_appellate": "Appellate authority",
    "receipt_answers": "Details in the application",
    "receipt_documents": "Documents attached",
    "receipt_documents_none": "None",
    "receipt_document_photo": "photo",
    "receipt_document_pdf": "PDF file",
    "receipt_document_requested": "sent when the office asked for it",
    "receipt_appeal": "If it is not decided by the last date, or if it is rejected, you can appeal to the appellate authority within 30 days, free of cost.",
    "receipt_status_hint": "To know where your application is, send “status {reference}” to Seva on WhatsApp.",
    "receipt_qr": "Scan for the reference number",
    "receipt_footer": "Generated by Seva on {date}. This is a receipt for your application, not the certificate or licence.",
}

# Answers read as yes / no to a yes-no question (seva/validators.py), in any script.
YES = ["yes", "y", "yeah", "yep", "ok", "okay", "sure", "correct", "right"]
NO = ["no", "n", "nope", "nah", "not"]
GREETINGS = ["hi", "hello", "hey", "hii", "good morning", "good afternoon", "good evening", "namaste", "namaskar"]

# Month names a citizen may write in a date, January first (seva/validators.py).
MONTHS = [
    ["jan", "january"],
    ["feb", "february"],
    ["mar", "march"],
    ["apr", "april"],
    ["may"],
    ["jun", "june"],
    ["jul", "july"],
    ["aug", "august"],
    ["sep", "sept", "september"],
    ["oct", "october"],
    ["nov", "november"],
    ["dec", "december"],
]
