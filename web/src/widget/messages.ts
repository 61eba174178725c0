// The widget's strings (English, Simplified Chinese, Arabic).
import type { Catalog } from '../lib/i18n';

export const widgetMessages: Catalog = {
  en: {
    open: 'Chat with us', close: 'Close chat', placeholder: 'Type a message…', send: 'Send', attach: 'Send a file',
    offline: 'We are away right now. Leave your e-mail and we will answer you there.', email: 'Your e-mail', save: 'Save',
    saved: 'Thanks! We will reply to {email}.', typing: '{name} is typing…', sending: 'Sending…', hours: 'Office hours: {hours}',
    greeting: 'Hi! How can we help you today?', reconnecting: 'Reconnecting…', language: 'Language',
  },
  zh: {
    open: '在线咨询', close: '关闭聊天', placeholder: '输入消息…', send: '发送', attach: '发送文件',
    offline: '我们暂时不在线。留下邮箱，我们会通过邮件回复您。', email: '您的邮箱', save: '保存',
    saved: '谢谢！我们会回复到 {email}。', typing: '{name} 正在输入…', sending: '发送中…', hours: '服务时间：{hours}',
    greeting: '您好！有什么可以帮您？', reconnecting: '正在重新连接…', language: '语言',
  },
  ar: {
    open: 'تحدث معنا', close: 'إغلاق المحادثة', placeholder: 'اكتب رسالة…', send: 'إرسال', attach: 'إرسال ملف',
    offline: 'نحن غير متاحين الآن. اترك بريدك الإلكتروني وسنرد عليك.', email: 'بريدك الإلكتروني', save: 'حفظ',
    saved: 'شكرًا! سنرد على {email}.', typing: '{name} يكتب…', sending: 'جارٍ الإرسال…', hours: 'ساعات العمل: {hours}',
    greeting: 'مرحبًا! كيف يمكننا مساعدتك؟', reconnecting: 'جارٍ إعادة الاتصال…', language: 'اللغة',
  },
};
