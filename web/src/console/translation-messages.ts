// The strings of translation, English and Simplified Chinese, added to the
// console's catalog when imported.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const translationMessages: Catalog = {
  en: {
    'translate.show': 'Translate', 'translate.working': 'Translating…', 'translate.from': 'Translated from {lang}',
    'translate.written_as': 'You wrote', 'translate.reply': 'Translate into {lang}', 'translate.reply_any': 'Translate reply',
    'translate.preview': 'Will be sent in {lang} (you can edit it):', 'translate.discard': 'Send as typed',
    'translate.failed': 'Translation failed: {message}',
    'translate.settings': 'Translation', 'translate.settings_intro': 'Agents read buyers’ messages in their own language and send replies in the buyer’s. Use a LibreTranslate-compatible server (your own, or a hosted one) or DeepL.',
    'translate.provider': 'Provider', 'translate.base_url': 'Base URL', 'translate.api_key': 'API key (leave empty to keep the current one)',
    'translate.save': 'Save', 'translate.saved': 'Saved.', 'translate.remove': 'Turn off', 'translate.off': 'Translation is off.',
  },
  zh: {
    'translate.show': '翻译', 'translate.working': '翻译中…', 'translate.from': '译自 {lang}',
    'translate.written_as': '您写的是', 'translate.reply': '翻译成 {lang}', 'translate.reply_any': '翻译回复',
    'translate.preview': '将以 {lang} 发送（可编辑）：', 'translate.discard': '按原文发送',
    'translate.failed': '翻译失败：{message}',
    'translate.settings': '翻译', 'translate.settings_intro': '客服用自己的语言阅读买家消息，并以买家的语言回复。可使用兼容 LibreTranslate 的服务（自建或托管）或 DeepL。',
    'translate.provider': '服务商', 'translate.base_url': '服务地址', 'translate.api_key': 'API 密钥（留空则保留当前密钥）',
    'translate.save': '保存', 'translate.saved': '已保存。', 'translate.remove': '关闭', 'translate.off': '翻译已关闭。',
  },
};

for (const [locale, dict] of Object.entries(translationMessages)) Object.assign((messages[locale] ??= {}), dict);
