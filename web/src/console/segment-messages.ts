// The Segments page's and the contact profile chips' strings, English and
// Simplified Chinese, added to the console's catalog when loaded.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const segmentMessages: Catalog = {
  en: {
    'segments.title': 'Segments',
    'segments.intro': 'Named groups of buyers by what Ferry knows about them: country, language, VIP, topics, tags, channels, orders and satisfaction. Campaigns will target them.',
    'segments.new': 'New segment', 'segments.name': 'Name', 'segments.save': 'Save segment', 'segments.update': 'Save changes',
    'segments.delete': 'Delete', 'segments.none': 'No segments yet.', 'segments.audience': '{count} {count|contact|contacts}',
    'segments.by_language': 'By language', 'segments.by_channel': 'By channel', 'segments.unknown': 'unknown',
    'segments.members': 'Members', 'segments.more': 'Load more', 'segments.empty': 'Nobody matches this filter.',
    'segments.saved': 'Saved.',
    'segments.f.country': 'Country (DE, FR …)', 'segments.f.language': 'Language (de, en …)', 'segments.f.vip': 'VIP',
    'segments.f.any': 'Any', 'segments.f.yes': 'Yes', 'segments.f.no': 'No', 'segments.f.tag': 'Tag',
    'segments.f.auto_tag': 'Automatic tag', 'segments.f.topic': 'Topic (intent)', 'segments.f.channel': 'Reachable on (email, phone, whatsapp …)',
    'segments.f.sku': 'Bought SKU', 'segments.f.spent': 'Spent at least', 'segments.f.orders': 'Orders at least',
    'segments.f.after': 'Last order on or after', 'segments.f.before': 'Last order before', 'segments.f.csat_min': 'Last rating from',
    'segments.f.csat_max': 'Last rating up to', 'segments.f.attr_key': 'Attribute', 'segments.f.attr_value': 'equals',
    'nav.segments': 'Segments',
    'profile.title': 'Profile', 'profile.vip': 'VIP', 'profile.vip_orders': 'VIP by orders',
    'profile.orders': '{count} {count|order|orders} · {spent}', 'profile.country': 'Country {country}',
    'profile.language': 'Speaks {language}', 'profile.topic': 'Topic: {topic}', 'profile.csat': 'Last rating {rating}/5 · {date}',
  },
  zh: {
    'segments.title': '客户分群',
    'segments.intro': '按 Ferry 掌握的信息对买家命名分组：国家、语言、VIP、话题、标签、渠道、订单和满意度。之后的营销活动将以分群为目标。',
    'segments.new': '新建分群', 'segments.name': '名称', 'segments.save': '保存分群', 'segments.update': '保存修改',
    'segments.delete': '删除', 'segments.none': '还没有分群。', 'segments.audience': '{count} 位联系人',
    'segments.by_language': '按语言', 'segments.by_channel': '按渠道', 'segments.unknown': '未知',
    'segments.members': '成员', 'segments.more': '加载更多', 'segments.empty': '没有符合条件的联系人。',
    'segments.saved': '已保存。',
    'segments.f.country': '国家（DE、FR …）', 'segments.f.language': '语言（de、en …）', 'segments.f.vip': 'VIP',
    'segments.f.any': '不限', 'segments.f.yes': '是', 'segments.f.no': '否', 'segments.f.tag': '标签',
    'segments.f.auto_tag': '自动标签', 'segments.f.topic': '话题（意图）', 'segments.f.channel': '可联系渠道（email、phone、whatsapp …）',
    'segments.f.sku': '购买过的 SKU', 'segments.f.spent': '消费至少', 'segments.f.orders': '订单至少',
    'segments.f.after': '最近订单不早于', 'segments.f.before': '最近订单早于', 'segments.f.csat_min': '最近评分从',
    'segments.f.csat_max': '最近评分到', 'segments.f.attr_key': '属性', 'segments.f.attr_value': '等于',
    'nav.segments': '客户分群',
    'profile.title': '画像', 'profile.vip': 'VIP', 'profile.vip_orders': 'VIP（按订单）',
    'profile.orders': '{count} 笔订单 · {spent}', 'profile.country': '国家 {country}',
    'profile.language': '语言 {language}', 'profile.topic': '话题：{topic}', 'profile.csat': '最近评分 {rating}/5 · {date}',
  },
};

for (const [locale, dict] of Object.entries(segmentMessages)) Object.assign((messages[locale] ??= {}), dict);
