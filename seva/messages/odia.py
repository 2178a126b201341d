"""Odia: the small texts the code puts together, and the WhatsApp channel's own messages.

Whole messages live in domain.yml (said through Rasa); see seva/messages/__init__.py.
"""

TEXTS = {
    # --- Words and labels put into buttons and lists
    "yes": "ହଁ",
    "no": "ନା",
    "yes_submit": "ହଁ, ଦାଖଲ କରନ୍ତୁ",
    "summary_documents": "📎 ପଠାଯାଇଥିବା ସହାୟକ କାଗଜପତ୍ର: {count}",
    "summary_add_documents": "📎 ଚାହିଁଲେ ଏବେ କୌଣସି ସହାୟକ କାଗଜର ଫଟୋ ବା PDF ମଧ୍ୟ ପଠାଇପାରିବେ (ବାଧ୍ୟତାମୂଳକ ନୁହେଁ)।",
    "no_submit": "ନା",
    "apply_button": "ଏବେ ଆବେଦନ କରନ୍ତୁ",
    "services_button": "ସେବା ତାଲିକା",
    "more": "ଆହୁରି ଦେଖନ୍ତୁ…",
    "list_label": "ବାଛନ୍ତୁ",
    "unknown_value": "ଜଣା ନାହିଁ",
    "cancel_button": "ବାତିଲ",
    "skip_button": "ଛାଡ଼ନ୍ତୁ",
    "office_button": "କାର୍ଯ୍ୟାଳୟ ସହ କଥା",
    # --- How to write an answer, shown after two refused answers (utter_field_stuck_format)
    "example_date": "15/08/1990",
    "example_amount": "50000",
    "example_number": "{number}",
    "example_pincode": "751001",
    "example_phone": "9876543210",
    "example_name": "ରମେଶ କୁମାର ଦାସ",
    "example_text": "କିଛି ଶବ୍ଦ, ଅତି କମରେ {min}ଟି ଅକ୍ଷର",
    "example_document": "📎 (ଆଟାଚ୍) ଦେଇ ପଠାଯାଇଥିବା ଫଟୋ ବା PDF",
    # --- Lines of a service card (utter_service_card) and of a submission (utter_submitted)
    "time_limit_days": "ଓଡ଼ିଶା ଲୋକସେବା ଅଧିକାର ଆଇନ ଅନୁସାରେ ସମୟସୀମା: {days} ଦିନ (ସରକାରୀ ଛୁଟି ଦିନ ଗଣାଯାଏ ନାହିଁ)।",
    "time_limit_text": "ଓଡ଼ିଶା ଲୋକସେବା ଅଧିକାର ଆଇନ ଅନୁସାରେ ସମୟସୀମା (ଯେଉଁଠାରୁ ଏହି ତଥ୍ୟ ନିଆଯାଇଛି, ସେଠାରେ ଇଂରାଜୀରେ ଏପରି ଲେଖାଯାଇଛି): “{limit}”।",
    "time_limit_unknown": "ସମୟସୀମା: ଏହି ସେବାର ସମୟସୀମା ମୋତେ ଜଣା ନାହିଁ। ଦୟାକରି କାର୍ଯ୍ୟାଳୟରେ ପଚାରନ୍ତୁ।",
    "officers": "ନିଷ୍ପତ୍ତି ନେବେ: {designated}। ଅପିଲ ଶୁଣିବେ: {appellate}। ପୁନରୀକ୍ଷଣ (ରିଭିଜନ): {revisional}।",
    "documents": "କାଗଜପତ୍ର: {documents}",
    "documents_unknown": "କାଗଜପତ୍ର: ମୋ ପାଖରେ ଥିବା ତଥ୍ୟରେ ଏହାର ତାଲିକା ନାହିଁ। ଯିବା ପୂର୍ବରୁ ଦୟାକରି ମୋ ସେବା କେନ୍ଦ୍ର ବା କାର୍ଯ୍ୟାଳୟରେ ପଚାରି ନିଅନ୍ତୁ।",
    "fee": "ଶୁଳ୍କ: {fee}",
    "outdated": "⚠️ ଏହି ତଥ୍ୟ ଏକ ପୁରୁଣା ତାଲିକା ({vintage})ରୁ ନିଆଯାଇଛି, ଏବେ ବଦଳି ଯାଇଥାଇପାରେ।",
    "due_date": "ଏହାର ନିଷ୍ପତ୍ତି {days} ଦିନ ଭିତରେ, ପ୍ରାୟ {due} ସୁଦ୍ଧା ହେବା ଦରକାର (ସରକାରୀ ଛୁଟି ଦିନ ଗଣାଯାଏ ନାହିଁ, ତେଣୁ ଶେଷ ତାରିଖ ଟିକେ ପରେ ହୋଇପାରେ)।",
    # --- Lines of an application's status (utter_status)
    "status_day": "ସମୟସୀମା: {days} ଦିନ, ଶେଷ ତାରିଖ ପ୍ରାୟ {due}। ଆଜି {days} ଦିନ ମଧ୍ୟରୁ {day}ତମ ଦିନ।",
    "status_note": "କାର୍ଯ୍ୟାଳୟର ମନ୍ତବ୍ୟ: {note}",
    "status_submitted": "ଦାଖଲ ହୋଇଛି, କାର୍ଯ୍ୟାଳୟର ଉତ୍ତର ଅପେକ୍ଷାରେ",
    "status_in_progress": "କାର୍ଯ୍ୟାଳୟରେ କାମ ଚାଲିଛି",
    "status_approved": "ମଞ୍ଜୁର",
    "status_rejected_label": "ନାମଞ୍ଜୁର",
    "status_received": "ବିଭାଗ ପାଇଛି",
    "status_documents_needed": "କାଗଜପତ୍ର ଦରକାର",
    "status_day_exact": "ସମୟସୀମା: {days} କାର୍ଯ୍ୟ ଦିବସ, ଶେଷ ତାରିଖ {due}। ଆଜି {days} କାର୍ଯ୍ୟ ଦିବସ ମଧ୍ୟରୁ {day}ତମ ଦିନ।",
    "status_day_exact_start": "ସମୟସୀମା: {days} କାର୍ଯ୍ୟ ଦିବସ, ଶେଷ ତାରିଖ {due}। ପରବର୍ତ୍ତୀ କାର୍ଯ୍ୟ ଦିବସରୁ ଗଣନା ଆରମ୍ଭ ହେବ।",
    "due_date_exact": "{days} କାର୍ଯ୍ୟ ଦିବସ ଭିତରେ (ସରକାରୀ ଛୁଟି ଦିନ ଗଣାଯାଏ ନାହିଁ), {due} ସୁଦ୍ଧା ଏହାର ନିଷ୍ପତ୍ତି ହେବା କଥା।",
    "delivery_delivered": "📨 {date} ତାରିଖରେ ବିଭାଗକୁ ପଠାଯାଇଛି।",
    "delivery_pending": "📨 ଏପର୍ଯ୍ୟନ୍ତ ବିଭାଗ ପାଖରେ ପହଞ୍ଚିନାହିଁ: ଆମେ ଏହାକୁ ପଠାଉଛୁ ଏବଂ ଚେଷ୍ଟା ଜାରି ରଖିବୁ।",
    "delivery_failed": "📨 ବିଭାଗର ସିଷ୍ଟମ ଏହାକୁ ଏପର୍ଯ୍ୟନ୍ତ ଗ୍ରହଣ କରିନାହିଁ। ଆମ ଦଳକୁ ଜଣାଇ ଦିଆଯାଇଛି, ସେମାନେ ଏହାକୁ ଠିକ କରିବେ; ଆପଣଙ୍କୁ ପୁଣି ଆବେଦନ କରିବାକୁ ପଡ଼ିବ ନାହିଁ।",
    "notice_collect_link": "ଆପଣଙ୍କ ପ୍ରମାଣପତ୍ର: {url}",
    "notice_collect_office": "{officer}ଙ୍କ କାର୍ଯ୍ୟାଳୟରୁ ଏହାକୁ ନିଅନ୍ତୁ।",
    "notice_collect_ask": "ଯେଉଁ କାର୍ଯ୍ୟାଳୟରେ ଆବେଦନ କରିଥିଲେ, ସେଠାରେ ପଚାରନ୍ତୁ ଏହାକୁ କିପରି ନେବେ।",
    "notice_no_reason": "କୌଣସି କାରଣ ଦିଆଯାଇନାହିଁ",
    "appeal_button": "ଅଭିଯୋଗ ବା ଅପିଲ",
    # --- Sent by the WhatsApp channel itself: a voice note's echo before the answer
    "voice_heard": "🎤 ମୁଁ ଶୁଣିଲି: “{transcript}”",
    "voice_chose": "🎤 ଆପଣ ବାଛିଲେ: {choice}",
    "voice_chose_undo": "🎤 ଆପଣ ବାଛିଲେ: {choice}\nଯଦି ଏହା ଭୁଲ, “ନା” କୁହନ୍ତୁ କିମ୍ବା ଲେଖନ୍ତୁ।",
    "voice_understood": "🎤 ମୁଁ ବୁଝିଲି: {choice}",
    # --- Sent by the WhatsApp channel itself when Rasa cannot answer
    "rate_limited": "⏳ ଆପଣ ବହୁତ ଶୀଘ୍ର ଶୀଘ୍ର ମେସେଜ ପଠାଉଛନ୍ତି। ଦୟାକରି ଗୋଟିଏ ମିନିଟ ଅପେକ୍ଷା କରନ୍ତୁ, ତା'ପରେ ଆପଣଙ୍କ ମେସେଜ ପୁଣି ପଠାନ୍ତୁ।",
    "try_again": "😔 କ୍ଷମା କରିବେ, ମୁଁ ଏବେ ଏହାର ଉତ୍ତର ଦେଇପାରିଲି ନାହିଁ। ଦୟାକରି ଗୋଟିଏ ମିନିଟ ପରେ ଆପଣଙ୍କ ମେସେଜ ପୁଣି ପଠାନ୍ତୁ।",
    # --- The acknowledgement receipt, a PDF after submission (seva/receipt.py)
    "receipt_caption": "🧾 ଆପଣଙ୍କ ଆବେଦନ {reference}ର ରସିଦ। ଏହାକୁ ସାଇତି ରଖନ୍ତୁ: କେଉଁ ସେବା ପାଇଁ ଆବେଦନ କରିଛନ୍ତି ଏବଂ କେବେ ସୁଦ୍ଧା ନିଷ୍ପତ୍ତି ହେବା କଥା, ଏଥିରେ ଲେଖା ଅଛି।",
    "receipt_not_sent": "🧾 ଏବେ {reference}ର ରସିଦ ପଠାଇ ପାରିଲି ନାହିଁ। ଟିକିଏ ପରେ “ରସିଦ {reference}” ପଠାନ୍ତୁ, ରସିଦ ପାଇଯିବେ।",
    "receipt_title": "ପ୍ରାପ୍ତି ସ୍ୱୀକାର",
    "receipt_brand": "ସେବା · ଓଡ଼ିଶା ଲୋକସେବା ଅଧିକାର ଆଇନ, 2012",
    "receipt_lead": "ଆପଣଙ୍କ ଆବେଦନ ଦାଖଲ ହୋଇଗଲା। ଏହି ପ୍ରାପ୍ତି ସ୍ୱୀକାର ସାଇତି ରଖନ୍ତୁ।",
    "receipt_reference": "ସନ୍ଦର୍ଭ ନମ୍ବର",
    "receipt_service": "ସେବା",
    "receipt_submitted_on": "ଦାଖଲ ତାରିଖ",
    "receipt_whatsapp": "ହ୍ୱାଟସଆପ ନମ୍ବର",
    "receipt_time_limit": "ସମୟସୀମା",
    "receipt_time_limit_days": "{days} କାର୍ଯ୍ୟ ଦିବସ (ସରକାରୀ ଛୁଟି ଦିନ ଗଣାଯାଏ ନାହିଁ)",
    "receipt_due": "ନିଷ୍ପତ୍ତିର ଶେଷ ତାରିଖ",
    "receipt_due_about": "ପ୍ରାୟ {date}",
    "receipt_designated": "ନିଷ୍ପତ୍ତି ନେଉଥିବା ଅଧିକାରୀ",
    "receipt_appellate": "ଅପିଲ ଅଧିକାରୀ",
    "receipt_answers": "ଆବେଦନରେ ଦିଆଯାଇଥିବା ତଥ୍ୟ",
    "receipt_documents": "ସଂଲଗ୍ନ କାଗଜପତ୍ର",
    "receipt_documents_none": "କିଛି ନାହିଁ",
    "receipt_document_photo": "ଫଟୋ",
    "receipt_document_pdf": "PDF ଫାଇଲ",
    "receipt_document_requested": "କାର୍ଯ୍ୟାଳୟ ମାଗିବା ପରେ ପଠାଯାଇଛି",
    "receipt_appeal": "ଶେଷ ତାରିଖ ସୁଦ୍ଧା ନିଷ୍ପତ୍ତି ନହେଲେ କିମ୍ବା ଆବେଦନ ନାମଞ୍ଜୁର ହେଲେ, ଆପଣ 30 ଦିନ ଭିତରେ ଅପିଲ ଅଧିକାରୀଙ୍କ ପାଖରେ ମାଗଣାରେ ଅପିଲ କରିପାରିବେ।",
    "receipt_status_hint": "ଆବେଦନର ସ୍ଥିତି ଜାଣିବା ପାଇଁ ହ୍ୱାଟସଆପରେ ସେବାକୁ “ସ୍ଥିତି {reference}” ପଠାନ୍ତୁ।",
    "receipt_qr": "ସନ୍ଦର୍ଭ ନମ୍ବର ପାଇଁ ସ୍କାନ କରନ୍ତୁ",
    "receipt_footer": "ସେବା ଦ୍ୱାରା {date} ତାରିଖରେ ପ୍ରସ୍ତୁତ। ଏହା ଆପଣଙ୍କ ଆବେଦନର ପ୍ରାପ୍ତି ସ୍ୱୀକାର, ପ୍ରମାଣପତ୍ର ବା ଲାଇସେନ୍ସ ନୁହେଁ।",
}

# Answers read as yes / no to a yes-no question (seva/validators.py), in any script.
YES = ["ହଁ", "ହଁ", "ହ", "ଆଜ୍ଞା", "ଠିକ୍", "ଠିକ", "thik achhi", "ହଁ ଠିକ୍"]
NO = ["ନା", "ନାହିଁ", "ନାହି", "ଭୁଲ"]
GREETINGS = ["ନମସ୍କାର", "ନମସ୍ତେ", "ହେଲୋ", "ହାଏ", "ପ୍ରଣାମ", "ଜୁହାର", "namaskar", "johar", "juhar"]

# Month names a citizen may write in a date, January first (seva/validators.py).
MONTHS = [
    ["ଜାନୁଆରୀ"],
    ["ଫେବୃଆରୀ", "ଫେବ୍ରୁଆରୀ"],
    ["ମାର୍ଚ୍ଚ"],
    ["ଏପ୍ରିଲ"],
    ["ମେ"],
    ["ଜୁନ"],
    ["ଜୁଲାଇ"],
    ["ଅଗଷ୍ଟ"],
    ["ସେପ୍ଟେମ୍ବର"],
    ["ଅକ୍ଟୋବର"],
    ["ନଭେମ୍ବର"],
    ["ଡିସେମ୍ବର"],
]
