// The Product feedback page's strings, English and Simplified Chinese,
// added to the console's catalog when the page's chunk loads.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const productMessages: Catalog = {
  en: {
    'products.title': 'Product feedback',
    'products.intro': 'Conversations tagged as a defect (or with a defect intent), counted per SKU of the buyer’s orders. Defect rate = defect conversations ÷ orders with the SKU in the same days.',
    'products.sku': 'SKU', 'products.defects': 'Defect conversations', 'products.conversations': 'Conversations',
    'products.orders': 'Orders', 'products.units': 'Units', 'products.rate': 'Defect rate', 'products.trend': 'Weeks',
    'products.trend.up': 'rising', 'products.trend.down': 'falling', 'products.trend.flat': 'steady',
    'products.reasons': 'Reasons', 'products.countries': 'Countries', 'products.none': 'No conversation mentions a product in this period.',
    'products.chart': '{sku} per week', 'products.examples': 'What buyers wrote', 'products.no_examples': 'No defect conversation in this period.',
    'products.open': 'Open conversation #{id}', 'products.more': 'More', 'products.page': '{first}–{last} of {total}',
    'products.rules': 'What counts as a defect', 'products.rules.tags': 'Defect tags', 'products.rules.intents': 'Defect intents',
    'products.rules.hint': 'Separate names with commas; case does not matter.', 'products.rules.save': 'Save', 'products.rules.saved': 'Saved.',
    'products.unknown': 'unknown',
  },
  zh: {
    'products.title': '商品反馈',
    'products.intro': '被标记为质量问题（或意图为质量问题）的会话，按买家订单中的 SKU 统计。质量问题率 = 质量问题会话 ÷ 同期含该 SKU 的订单数。',
    'products.sku': 'SKU', 'products.defects': '质量问题会话', 'products.conversations': '会话数',
    'products.orders': '订单数', 'products.units': '件数', 'products.rate': '质量问题率', 'products.trend': '按周',
    'products.trend.up': '上升', 'products.trend.down': '下降', 'products.trend.flat': '持平',
    'products.reasons': '原因', 'products.countries': '国家/地区', 'products.none': '这段时间没有涉及商品的会话。',
    'products.chart': '{sku} 每周情况', 'products.examples': '买家原话', 'products.no_examples': '这段时间没有质量问题会话。',
    'products.open': '打开会话 #{id}', 'products.more': '更多', 'products.page': '第 {first}–{last} 个，共 {total} 个',
    'products.rules': '质量问题的判定', 'products.rules.tags': '质量问题标签', 'products.rules.intents': '质量问题意图',
    'products.rules.hint': '多个名称用逗号分隔，不区分大小写。', 'products.rules.save': '保存', 'products.rules.saved': '已保存。',
    'products.unknown': '未知',
  },
};

for (const [locale, dict] of Object.entries(productMessages)) Object.assign((messages[locale] ??= {}), dict);
