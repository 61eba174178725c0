// The widget's strings (English, Simplified Chinese, Arabic).
import type { Catalog } from '../lib/i18n';

export const widgetMessages: Catalog = {
  en: {
    open: 'Chat with us', close: 'Close chat', placeholder: 'Type a message…', send: 'Send', attach: 'Send a file',
    offline: 'We are away right now. Your message is saved and our reply will appear here when you come back. You can also leave your e-mail so our team can contact you.', email: 'Your e-mail', save: 'Save',
    saved: 'Thanks! Our team can contact you at {email}.',
    too_long: 'This message is longer than 16 KB. Please shorten it, or send the text as a file.',
    too_fast: 'You are sending messages too fast. We will send this one in a moment.',
    not_sent: 'This message could not be sent.',
    email_taken: 'This e-mail already belongs to another customer account, so we cannot add it here. Write it in a message and an agent will check.',
    email_invalid: 'This does not look like an e-mail address.', email_failed: 'Your e-mail could not be saved. Please try again.',
    new_reply: 'New reply', typing: '{name} is typing…', sending: 'Sending…', hours: 'Office hours: {hours}',
    greeting: 'Hi! How can we help you today?', reconnecting: 'Reconnecting…', language: 'Language',
  },
  zh: {
    open: '在线咨询', close: '关闭聊天', placeholder: '输入消息…', send: '发送', attach: '发送文件',
    offline: '我们暂时不在线。您的消息已保存，回复会显示在这里，您回来时即可看到。您也可以留下邮箱，方便我们的客服联系您。', email: '您的邮箱', save: '保存',
    saved: '谢谢！我们的客服可以通过 {email} 联系您。',
    too_long: '这条消息超过 16 KB。请缩短内容，或把文字作为文件发送。',
    too_fast: '您发送得太快了，这条消息稍后会自动发送。',
    not_sent: '这条消息无法发送。',
    email_taken: '这个邮箱已属于另一位客户，无法添加到这里。请在消息中写下邮箱，客服会核实。',
    email_invalid: '这似乎不是有效的邮箱地址。', email_failed: '邮箱未能保存，请重试。',
    new_reply: '新回复', typing: '{name} 正在输入…', sending: '发送中…', hours: '服务时间：{hours}',
    greeting: '您好！有什么可以帮您？', reconnecting: '正在重新连接…', language: '语言',
  },
  ar: {
    open: 'تحدث معنا', close: 'إغلاق المحادثة', placeholder: 'اكتب رسالة…', send: 'إرسال', attach: 'إرسال ملف',
    offline: 'نحن غير متاحين الآن. تم حفظ رسالتك وسيظهر ردنا هنا عند عودتك. يمكنك أيضًا ترك بريدك الإلكتروني ليتواصل معك فريقنا.', email: 'بريدك الإلكتروني', save: 'حفظ',
    saved: 'شكرًا! يمكن لفريقنا التواصل معك على {email}.',
    too_long: 'هذه الرسالة أطول من 16 كيلوبايت. يرجى اختصارها أو إرسال النص كملف.',
    too_fast: 'أنت ترسل الرسائل بسرعة كبيرة. سنرسل هذه الرسالة بعد قليل.',
    not_sent: 'تعذر إرسال هذه الرسالة.',
    email_taken: 'هذا البريد الإلكتروني مرتبط بحساب عميل آخر، لذا لا يمكننا إضافته هنا. اكتبه في رسالة وسيتحقق منه أحد الموظفين.',
    email_invalid: 'لا يبدو هذا عنوان بريد إلكتروني.', email_failed: 'تعذر حفظ بريدك الإلكتروني. يرجى المحاولة مرة أخرى.',
    new_reply: 'رد جديد', typing: '{name} يكتب…', sending: 'جارٍ الإرسال…', hours: 'ساعات العمل: {hours}',
    greeting: 'مرحبًا! كيف يمكننا مساعدتك؟', reconnecting: 'جارٍ إعادة الاتصال…', language: 'اللغة',
  },
};
