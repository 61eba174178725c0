// The Frequent questions page's strings, English and Simplified Chinese,
// added to the console's catalog when the page's chunk loads.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const questionMessages: Catalog = {
  en: {
    'questions.title': 'Frequent questions',
    'questions.intro': 'What buyers asked that people had to answer, grouped by question across phrasings and languages. Turn a frequent one into a FAQ entry or an intent and the bot answers it from then on.',
    'questions.period': 'Last {days} days', 'questions.none': 'No answered questions in this period.',
    'questions.size': '{count} {count|message|messages}', 'questions.trend': 'this week {now} · last week {before}',
    'questions.reply': 'Agents replied ({count}×):', 'questions.covered.intent': 'The bot answers it (intent {name})',
    'questions.covered.faq': 'The bot answers it (FAQ {name})', 'questions.uncovered': 'The bot does not answer it',
    'questions.make_faq': 'Make a FAQ entry', 'questions.make_intent': 'Make an intent', 'questions.name': 'Name (a-z, digits, _)',
    'questions.create': 'Create and retrain', 'questions.cancel': 'Cancel', 'questions.done': 'Added to the bot as {name}; it is retrained.',
    'questions.examples': 'Examples', 'questions.loading': 'Grouping questions…',
  },
  zh: {
    'questions.title': '常见问题',
    'questions.intro': '需要人工回答的买家问题，按问题归类（不同说法、不同语言）。把常见问题设为 FAQ 或意图后，机器人就能自动回答。',
    'questions.period': '最近 {days} 天', 'questions.none': '这段时间没有人工回答的问题。',
    'questions.size': '{count} 条消息', 'questions.trend': '本周 {now} · 上周 {before}',
    'questions.reply': '客服回复（{count} 次）：', 'questions.covered.intent': '机器人已能回答（意图 {name}）',
    'questions.covered.faq': '机器人已能回答（FAQ {name}）', 'questions.uncovered': '机器人尚不能回答',
    'questions.make_faq': '设为 FAQ', 'questions.make_intent': '设为意图', 'questions.name': '名称（a-z、数字、_）',
    'questions.create': '创建并重新训练', 'questions.cancel': '取消', 'questions.done': '已作为 {name} 加入机器人，并已重新训练。',
    'questions.examples': '示例', 'questions.loading': '正在归类问题…',
  },
};

for (const [locale, dict] of Object.entries(questionMessages)) Object.assign((messages[locale] ??= {}), dict);
