// The Shops settings' strings, English and Simplified Chinese, added to the
// console's catalog when the section's chunk loads.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const shopMessages: Catalog = {
  en: {
    'shops.intro': 'Connected shops send their orders, shipments and refunds to Ferry, so agents and the bot can answer order questions.',
    'shops.none': 'No shop is connected yet.', 'shops.platform.shopify': 'Shopify', 'shops.platform.import': 'Import',
    'shops.webhook_url': 'Webhook URL', 'shops.copy': 'Copy', 'shops.copied': 'Copied', 'shops.api': 'Admin API',
    'shops.name': 'Name', 'shops.domain': 'Shop domain (example.myshopify.com)',
    'shops.secret': 'App API secret (optional: Ferry makes one)', 'shops.api_url': 'Admin API URL (optional)',
    'shops.token': 'Admin API access token (optional)', 'shops.submit': 'Connect',
    'shops.webhook_hint': 'In Shopify, send the order, fulfilment and refund webhooks (JSON) to this URL.',
    'shops.secret_once': 'Webhook secret — copy it now, it will not be shown again:', 'shops.done': 'I have saved it',
    'shops.connected_at': 'Connected {date}',
    'shops.connect': 'Connect a shop', 'shops.platform': 'Platform', 'shops.platform.import_long': 'Other platform (file import)',
    'shops.site': 'Shop website (shop.example.com)',
    'shops.import.open': 'Import a file…', 'shops.import.kind': 'The file holds', 'shops.import.orders': 'orders',
    'shops.import.products': 'products', 'shops.import.file': 'CSV or JSON file', 'shops.import.currency': 'Currency of rows without one',
    'shops.import.dry_run': 'Only check, import nothing', 'shops.import.submit': 'Import',
    'shops.import.hint': 'One row per order line (or per product variant). Shopify\'s own CSV exports work as they are. A bad row rejects its order, and is listed below with the reason.',
    'shops.import.done': 'Imported {accepted} {kind} from {rows} rows.', 'shops.import.checked': '{accepted} {kind} from {rows} rows would be imported.',
    'shops.import.ignored': 'Columns not read: {columns}', 'shops.import.rejected': '{count} rows were not imported:',
    'shops.import.more': '… and {count} more.',
    'shops.api_none': 'not set (webhooks only)', 'shops.token_set': 'access token set', 'shops.token_missing': 'no access token',
    'shops.edit_access': 'Edit Admin API access', 'shops.token_new': 'New access token (empty: keep)', 'shops.save': 'Save',
    'shops.access_hint': 'With the Admin API URL and an access token, Ferry can backfill the shop and agents can cancel, refund and change addresses. Clear the URL to remove access.',
  },
  zh: {
    'shops.intro': '已连接的店铺会把订单、发货和退款同步到 Ferry，客服和机器人就能回答订单问题。',
    'shops.none': '还没有连接店铺。', 'shops.platform.shopify': 'Shopify', 'shops.platform.import': '导入',
    'shops.webhook_url': 'Webhook 地址', 'shops.copy': '复制', 'shops.copied': '已复制', 'shops.api': 'Admin API',
    'shops.name': '名称', 'shops.domain': '店铺域名（example.myshopify.com）',
    'shops.secret': '应用 API 密钥（可选：不填则由 Ferry 生成）', 'shops.api_url': 'Admin API 地址（可选）',
    'shops.token': 'Admin API 访问令牌（可选）', 'shops.submit': '连接',
    'shops.webhook_hint': '在 Shopify 中，把订单、发货和退款的 Webhook（JSON 格式）发送到这个地址。',
    'shops.secret_once': 'Webhook 密钥——请立即复制，之后不会再显示：', 'shops.done': '我已保存',
    'shops.connected_at': '连接于 {date}',
    'shops.connect': '连接店铺', 'shops.platform': '平台', 'shops.platform.import_long': '其他平台（文件导入）',
    'shops.site': '店铺网址（shop.example.com）',
    'shops.import.open': '导入文件…', 'shops.import.kind': '文件内容', 'shops.import.orders': '订单',
    'shops.import.products': '商品', 'shops.import.file': 'CSV 或 JSON 文件', 'shops.import.currency': '未写币种的行使用的币种',
    'shops.import.dry_run': '只检查，不导入', 'shops.import.submit': '导入',
    'shops.import.hint': '每个订单行（或每个商品规格）一行。Shopify 自带的 CSV 导出文件可直接使用。有错误的行会使其所在订单不被导入，并在下方列出原因。',
    'shops.import.done': '已从 {rows} 行中导入 {accepted} 个{kind}。', 'shops.import.checked': '将从 {rows} 行中导入 {accepted} 个{kind}。',
    'shops.import.ignored': '未读取的列：{columns}', 'shops.import.rejected': '{count} 行未导入：',
    'shops.import.more': '……另有 {count} 行。',
    'shops.api_none': '未设置（仅 Webhook）', 'shops.token_set': '已设置访问令牌', 'shops.token_missing': '没有访问令牌',
    'shops.edit_access': '编辑 Admin API 访问', 'shops.token_new': '新的访问令牌（留空则不变）', 'shops.save': '保存',
    'shops.access_hint': '填写 Admin API 地址和访问令牌后，Ferry 可以同步店铺历史数据，客服可以取消订单、退款和修改地址。清空地址即移除访问。',
  },
};

for (const [locale, dict] of Object.entries(shopMessages)) Object.assign((messages[locale] ??= {}), dict);
