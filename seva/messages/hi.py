"""Hindi: the small texts the code puts together, and the WhatsApp channel's own messages.

Whole messages live in domain.yml (said through Rasa); see seva/messages/__init__.py.
"""

TEXTS = {
    # --- Words and labels put into buttons and lists
    "yes": "हाँ",
    "no": "नहीं",
    "yes_submit": "हाँ, जमा करें",
    "summary_documents": "📎 भेजे गए सहायक दस्तावेज़: {count}",
    "summary_add_documents": "📎 चाहें तो अभी किसी सहायक दस्तावेज़ की फ़ोटो या PDF भी भेज सकते हैं (ज़रूरी नहीं)।",
    "no_submit": "नहीं",
    "apply_button": "अभी आवेदन करें",
    "services_button": "सेवाएँ देखें",
    "more": "और देखें…",
    "list_label": "चुनें",
    "unknown_value": "पता नहीं",
    "cancel_button": "रद्द करें",
    "skip_button": "छोड़ें",
    "office_button": "कार्यालय से बात",
    # --- How to write an answer, shown after two refused answers (utter_field_stuck_format)
    "example_date": "15/08/1990",
    "example_amount": "50000",
    "example_number": "{number}",
    "example_pincode": "751001",
    "example_phone": "9876543210",
    "example_name": "रमेश कुमार दास",
    "example_text": "कुछ शब्द, कम से कम {min} अक्षर",
    "example_document": "📎 (अटैच) से भेजी गई फ़ोटो या PDF",
    # --- Lines of a service card (utter_service_card) and of a submission (utter_submitted)
    "time_limit_days": "ओडिशा लोक सेवा अधिकार अधिनियम के तहत समय सीमा: {days} दिन (सरकारी छुट्टियाँ नहीं गिनी जातीं)।",
    "time_limit_text": "ओडिशा लोक सेवा अधिकार अधिनियम के तहत समय सीमा (जहाँ से यह जानकारी ली गई है, वहाँ अंग्रेज़ी में ऐसा लिखा है): “{limit}”।",
    "time_limit_unknown": "समय सीमा: इस सेवा की समय सीमा मुझे पता नहीं है। कृपया कार्यालय से पूछें।",
    "officers": "निर्णय लेंगे: {designated}। अपील सुनेंगे: {appellate}। पुनरीक्षण (रिवीज़न): {revisional}।",
    "documents": "दस्तावेज़: {documents}",
    "documents_unknown": "दस्तावेज़: मेरी जानकारी में इनकी सूची नहीं है। कृपया जाने से पहले मो सेबा केंद्र या कार्यालय से पूछ लें।",
    "fee": "शुल्क: {fee}",
    "outdated": "⚠️ यह जानकारी एक पुरानी सूची ({vintage}) से है, हो सकता है अब बदल गई हो।",
    "due_date": "इसका निर्णय {days} दिनों के भीतर, लगभग {due} तक होना चाहिए (सरकारी छुट्टियाँ नहीं गिनी जातीं, इसलिए अंतिम तारीख़ थोड़ी बाद की हो सकती है)।",
    # --- Lines of an application's status (utter_status)
    "status_day": "समय सीमा: {days} दिन, अंतिम तारीख़ लगभग {due}। आज {days} में से {day}वाँ दिन है।",
    "status_note": "कार्यालय की टिप्पणी: {note}",
    "status_submitted": "जमा हो गया, कार्यालय के जवाब का इंतज़ार है",
    "status_in_progress": "कार्यालय में काम चल रहा है",
    "status_approved": "स्वीकृत",
    "status_rejected_label": "अस्वीकृत",
    "status_received": "विभाग को मिल गया",
    "status_documents_needed": "दस्तावेज़ चाहिए",
    "status_day_exact": "समय सीमा: {days} कार्य दिवस, अंतिम तारीख़ {due}। आज {days} में से {day}वाँ कार्य दिवस है।",
    "status_day_exact_start": "समय सीमा: {days} कार्य दिवस, अंतिम तारीख़ {due}। गिनती अगले कार्य दिवस से शुरू होगी।",
    "due_date_exact": "इसका फ़ैसला {days} कार्य दिवसों में (सरकारी छुट्टियाँ नहीं गिनी जातीं), {due} तक होना चाहिए।",
    "delivery_delivered": "📨 {date} को विभाग को भेज दिया गया।",
    "delivery_pending": "📨 अभी विभाग तक नहीं पहुँचा: हम इसे भेज रहे हैं और कोशिश करते रहेंगे।",
    "delivery_failed": "📨 विभाग के सिस्टम ने इसे अभी तक नहीं लिया है। हमारी टीम को बता दिया गया है और वह इसे ठीक करेगी; आपको दोबारा आवेदन करने की ज़रूरत नहीं है।",
    "notice_collect_link": "आपका प्रमाणपत्र: {url}",
    "notice_collect_office": "इसे {officer} के कार्यालय से लें।",
    "notice_collect_ask": "जहाँ आवेदन किया था, उस कार्यालय से पूछें कि इसे कैसे लेना है।",
    "notice_no_reason": "कोई कारण नहीं बताया गया",
    "appeal_button": "शिकायत या अपील",
    # --- Sent by the WhatsApp channel itself: a voice note's echo before the answer
    "voice_heard": "🎤 मैंने सुना: “{transcript}”",
    "voice_chose": "🎤 आपने चुना: {choice}",
    "voice_chose_undo": "🎤 आपने चुना: {choice}\nअगर यह गलत है, तो “नहीं” बोलें या लिखें।",
    "voice_understood": "🎤 मैंने समझा: {choice}",
    # --- Sent by the WhatsApp channel itself when Rasa cannot answer
    "rate_limited": "⏳ आप बहुत जल्दी-जल्दी संदेश भेज रहे हैं। कृपया एक मिनट रुकें, फिर अपना संदेश दोबारा भेजें।",
    "try_again": "😔 माफ़ कीजिए, मैं अभी इसका जवाब नहीं दे पाया। कृपया एक मिनट बाद अपना संदेश फिर से भेजें।",
    # --- The acknowledgement receipt, a PDF after submission (seva/receipt.py)
    "receipt_caption": "🧾 आपके आवेदन {reference} की रसीद। इसे संभालकर रखें: इसमें लिखा है कि आपने किस सेवा के लिए आवेदन किया और फ़ैसला कब तक होना चाहिए।",
    "receipt_not_sent": "🧾 अभी {reference} की रसीद नहीं भेज पाया। थोड़ी देर बाद “रसीद {reference}” भेजें, रसीद मिल जाएगी।",
    "receipt_title": "पावती",
    "receipt_brand": "सेवा · ओडिशा लोक सेवा अधिकार अधिनियम, 2012",
    "receipt_lead": "आपका आवेदन जमा हो गया है। यह पावती संभालकर रखें।",
    "receipt_reference": "संदर्भ संख्या",
    "receipt_service": "सेवा",
    "receipt_submitted_on": "जमा करने की तारीख़",
    "receipt_whatsapp": "व्हाट्सऐप नंबर",
    "receipt_time_limit": "समय सीमा",
    "receipt_time_limit_days": "{days} कार्य दिवस (सरकारी छुट्टियाँ नहीं गिनी जातीं)",
    "receipt_due": "निर्णय की अंतिम तारीख़",
    "receipt_due_about": "लगभग {date}",
    "receipt_designated": "निर्णय लेने वाले अधिकारी",
    "receipt_appellate": "अपील अधिकारी",
    "receipt_answers": "आवेदन में दी गई जानकारी",
    "receipt_documents": "संलग्न दस्तावेज़",
    "receipt_documents_none": "कोई नहीं",
    "receipt_document_photo": "फ़ोटो",
    "receipt_document_pdf": "PDF फ़ाइल",
    "receipt_document_requested": "कार्यालय के माँगने पर भेजा गया",
    "receipt_appeal": "अगर अंतिम तारीख़ तक निर्णय न हो या आवेदन अस्वीकार हो जाए, तो आप 30 दिनों के भीतर अपील अधिकारी के पास मुफ़्त में अपील कर सकते हैं।",
    "receipt_status_hint": "आवेदन की स्थिति जानने के लिए व्हाट्सऐप पर सेवा को “स्थिति {reference}” भेजें।",
    "receipt_qr": "संदर्भ संख्या के लिए स्कैन करें",
    "receipt_footer": "सेवा द्वारा {date} को बनाई गई। यह आपके आवेदन की पावती है, प्रमाण पत्र या लाइसेंस नहीं।",
}

# Answers read as yes / no to a yes-no question (seva/validators.py), in any script.
YES = ["haan", "han", "ha", "haa", "ji", "ji haan", "jee", "hanji", "theek", "thik", "sahi", "bilkul", "achha", "हाँ", "हां", "जी", "जी हाँ", "ठीक", "सही", "हाँ जी"]
NO = ["nahi", "nahin", "na", "naa", "nai", "galat", "nahin ji", "mana", "नहीं", "नही", "ना", "गलत"]
GREETINGS = ["नमस्ते", "नमस्कार", "हेलो", "हैलो", "हाय", "प्रणाम", "राम राम", "namaste", "namaskar", "pranam"]

# Month names a citizen may write in a date, January first (seva/validators.py).
MONTHS = [
    ["जनवरी"],
    ["फरवरी"],
    ["मार्च"],
    ["अप्रैल"],
    ["मई"],
    ["जून"],
    ["जुलाई"],
    ["अगस्त"],
    ["सितंबर", "सितम्बर"],
    ["अक्टूबर"],
    ["नवंबर", "नवम्बर"],
    ["दिसंबर", "दिसम्बर"],
]
