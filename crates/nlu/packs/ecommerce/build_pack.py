#!/usr/bin/env python3
"""Build pack.json, the default e-commerce intent pack.

English examples are a seeded sample of the Bitext customer-support training
set (CDLA-Sharing-1.0, see NOTICE); hand-written examples in eight languages
and the answer templates are below. Run from anywhere:

  python3 crates/nlu/packs/ecommerce/build_pack.py [path/to/bitext/train.csv]
"""

import csv
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_BITEXT = HERE.parents[4] / "shared/data/intent/bitext_customer_support/train.csv"
PER_INTENT = 30
SEED = 7

# pack intent -> Bitext intents it is sampled from
BITEXT = {
    "order_status": ["track_order"],
    "delivery_time": ["delivery_period"],
    "delivery_options": ["delivery_options"],
    "cancel_order": ["cancel_order"],
    "change_order": ["change_order"],
    "change_address": ["change_shipping_address"],
    "return_policy": ["check_refund_policy"],
    "refund_request": ["get_refund"],
    "refund_status": ["track_refund"],
    "payment_problem": ["payment_issue"],
    "payment_methods": ["check_payment_methods"],
    "invoice": ["check_invoice", "get_invoice"],
    "account": ["recover_password", "registration_problems", "edit_account", "create_account", "delete_account"],
    "human_agent": ["contact_human_agent", "contact_customer_service"],
    "complaint": ["complaint"],
}

DESCRIPTIONS = {
    "order_status": "Where is my order / tracking",
    "shipping_delay": "The parcel is late or has not arrived",
    "delivery_time": "How long delivery takes",
    "delivery_options": "Shipping methods and costs",
    "cancel_order": "Cancel an order",
    "change_order": "Change items or quantities of an order",
    "change_address": "Change the delivery address",
    "return_policy": "How returns work",
    "exchange": "Exchange an item for another size or colour",
    "refund_request": "Ask for a refund",
    "refund_status": "Where is my refund",
    "payment_problem": "A payment failed or was charged twice",
    "payment_methods": "Which payment methods are accepted",
    "invoice": "Get or check an invoice",
    "account": "Log-in, password and account changes",
    "product_availability": "Stock, restocks and product questions",
    "human_agent": "Talk to a person",
    "complaint": "Dissatisfaction with the service or product",
    "greeting": "Hello",
    "thanks": "Thank you / goodbye",
}

# Hand-written examples: intent -> language -> examples.
HAND = {
    "order_status": {
        "en": ["where is my order?", "has my package shipped yet", "tracking number for order #1001 please", "what's the status of my order 1001"],
        "zh": ["我的订单到哪里了？", "请帮我查一下订单状态", "我的包裹发货了吗", "物流单号是多少", "订单1001现在什么状态"],
        "es": ["¿dónde está mi pedido?", "¿ya se envió mi paquete?", "quiero saber el estado de mi pedido", "¿me pasan el número de seguimiento?", "estado del pedido 1001"],
        "fr": ["où en est ma commande ?", "mon colis a-t-il été expédié ?", "pouvez-vous me donner le numéro de suivi", "je voudrais suivre ma commande", "statut de la commande 1001"],
        "de": ["wo ist meine Bestellung?", "wurde mein Paket schon verschickt?", "können Sie mir die Sendungsnummer geben", "ich möchte meine Bestellung verfolgen", "Status der Bestellung 1001"],
        "ja": ["注文した商品はどこですか", "荷物はもう発送されましたか", "追跡番号を教えてください", "注文状況を確認したいです", "注文番号1001の状況は？"],
        "pt": ["onde está o meu pedido?", "minha encomenda já foi enviada?", "qual é o código de rastreio", "quero acompanhar o meu pedido", "status do pedido 1001"],
        "it": ["dov'è il mio ordine?", "il mio pacco è già stato spedito?", "mi date il numero di tracciamento", "vorrei sapere lo stato del mio ordine", "stato dell'ordine 1001"],
    },
    "shipping_delay": {
        "en": ["my order is late", "my package still hasn't arrived", "it's been three weeks and nothing has arrived", "the tracking hasn't updated in 10 days", "delivery is delayed, where is my parcel", "I never received my order", "the parcel is stuck in customs"],
        "zh": ["我的包裹怎么还没到", "已经两周了还没收到货", "物流信息一直没有更新", "快递太慢了，延误了", "包裹卡在海关了"],
        "es": ["mi pedido no ha llegado todavía", "ya pasaron tres semanas y no recibo nada", "el seguimiento no se actualiza", "el envío está retrasado", "nunca recibí mi paquete"],
        "fr": ["ma commande n'est toujours pas arrivée", "ça fait trois semaines et je n'ai rien reçu", "le suivi ne bouge plus depuis 10 jours", "la livraison est en retard", "je n'ai jamais reçu mon colis"],
        "de": ["meine Bestellung ist immer noch nicht angekommen", "seit drei Wochen warte ich auf mein Paket", "die Sendungsverfolgung wird nicht aktualisiert", "die Lieferung ist verspätet", "ich habe mein Paket nie erhalten"],
        "ja": ["荷物がまだ届きません", "3週間経っても届いていません", "追跡情報が更新されない", "配送が遅れています", "税関で止まっているようです"],
        "pt": ["meu pedido ainda não chegou", "já faz três semanas e não recebi nada", "o rastreio não atualiza", "a entrega está atrasada", "nunca recebi minha encomenda"],
        "it": ["il mio ordine non è ancora arrivato", "sono passate tre settimane e non ho ricevuto niente", "il tracciamento non si aggiorna", "la consegna è in ritardo", "non ho mai ricevuto il pacco"],
    },
    "delivery_time": {
        "en": ["how long does shipping take to Germany", "when will my order arrive", "how many days for delivery"],
        "zh": ["发货后多久能到", "寄到美国要几天", "大概什么时候能收到", "运输时间是多久"],
        "es": ["¿cuánto tarda el envío?", "¿cuándo llegará mi pedido?", "¿cuántos días tarda en llegar a México?", "plazo de entrega"],
        "fr": ["combien de temps prend la livraison ?", "quand vais-je recevoir ma commande ?", "délai de livraison pour la France", "en combien de jours c'est livré"],
        "de": ["wie lange dauert der Versand?", "wann kommt meine Bestellung an?", "Lieferzeit nach Österreich", "wie viele Tage dauert die Lieferung"],
        "ja": ["配送にはどれくらいかかりますか", "いつ届きますか", "日本まで何日かかりますか", "お届け予定日を知りたい"],
        "pt": ["quanto tempo demora a entrega?", "quando meu pedido vai chegar?", "prazo de entrega para o Brasil", "em quantos dias chega"],
        "it": ["quanto tempo ci vuole per la spedizione?", "quando arriverà il mio ordine?", "tempi di consegna per l'Italia", "in quanti giorni arriva"],
    },
    "delivery_options": {
        "en": ["do you ship internationally", "how much is shipping", "is there express shipping", "do you offer free shipping"],
        "zh": ["运费多少钱", "可以发国际快递吗", "有没有包邮", "可以加急配送吗"],
        "es": ["¿cuánto cuesta el envío?", "¿hacen envíos internacionales?", "¿tienen envío gratis?", "¿hay envío exprés?"],
        "fr": ["combien coûte la livraison ?", "livrez-vous à l'international ?", "la livraison est-elle gratuite ?", "avez-vous la livraison express ?"],
        "de": ["was kostet der Versand?", "liefern Sie auch ins Ausland?", "gibt es kostenlosen Versand?", "gibt es Expressversand?"],
        "ja": ["送料はいくらですか", "海外発送はできますか", "送料無料はありますか", "速達で送れますか"],
        "pt": ["quanto custa o frete?", "vocês enviam para o exterior?", "tem frete grátis?", "tem entrega expressa?"],
        "it": ["quanto costa la spedizione?", "spedite all'estero?", "la spedizione è gratuita?", "avete la spedizione express?"],
    },
    "cancel_order": {
        "en": ["cancel my order", "I want to cancel order #1001", "please cancel it, I ordered by mistake"],
        "zh": ["我要取消订单", "请帮我取消订单1001", "下错单了，能取消吗", "不想要了，取消吧"],
        "es": ["quiero cancelar mi pedido", "cancelen el pedido 1001 por favor", "me equivoqué, ¿puedo cancelar?", "anular mi compra"],
        "fr": ["je veux annuler ma commande", "annulez la commande 1001 s'il vous plaît", "j'ai commandé par erreur, pouvez-vous annuler", "annuler mon achat"],
        "de": ["ich möchte meine Bestellung stornieren", "bitte Bestellung 1001 stornieren", "ich habe aus Versehen bestellt, bitte stornieren", "Kauf widerrufen"],
        "ja": ["注文をキャンセルしたい", "注文1001をキャンセルしてください", "間違えて注文したのでキャンセルできますか", "注文を取り消したい"],
        "pt": ["quero cancelar meu pedido", "cancelem o pedido 1001 por favor", "comprei por engano, posso cancelar?", "cancelar minha compra"],
        "it": ["voglio annullare il mio ordine", "annullate l'ordine 1001 per favore", "ho ordinato per sbaglio, potete annullare?", "cancellare il mio acquisto"],
    },
    "change_order": {
        "en": ["can I add an item to my order", "I want to change the size in my order", "change the quantity to two"],
        "zh": ["我想修改订单", "能帮我改一下尺码吗", "订单里再加一件", "数量改成两个"],
        "es": ["quiero modificar mi pedido", "¿puedo cambiar la talla del pedido?", "agregar un producto a mi pedido", "cambiar la cantidad a dos"],
        "fr": ["je voudrais modifier ma commande", "puis-je changer la taille dans ma commande", "ajouter un article à ma commande", "changer la quantité à deux"],
        "de": ["ich möchte meine Bestellung ändern", "kann ich die Größe in der Bestellung ändern", "einen Artikel zur Bestellung hinzufügen", "Menge auf zwei ändern"],
        "ja": ["注文内容を変更したい", "サイズを変更できますか", "注文に商品を追加したい", "数量を2つに変えてください"],
        "pt": ["quero alterar meu pedido", "posso mudar o tamanho no pedido?", "adicionar um item ao pedido", "mudar a quantidade para dois"],
        "it": ["vorrei modificare il mio ordine", "posso cambiare la taglia nell'ordine?", "aggiungere un articolo all'ordine", "cambiare la quantità a due"],
    },
    "change_address": {
        "en": ["I need to change my shipping address", "wrong address on my order", "can you send it to a different address"],
        "zh": ["我要修改收货地址", "地址填错了", "能改寄到别的地址吗", "更改配送地址"],
        "es": ["necesito cambiar la dirección de envío", "puse mal la dirección", "¿pueden enviarlo a otra dirección?", "cambiar dirección de entrega"],
        "fr": ["je dois changer mon adresse de livraison", "j'ai mis la mauvaise adresse", "pouvez-vous l'envoyer à une autre adresse", "modifier l'adresse de livraison"],
        "de": ["ich muss meine Lieferadresse ändern", "falsche Adresse angegeben", "können Sie es an eine andere Adresse schicken", "Lieferanschrift ändern"],
        "ja": ["配送先住所を変更したい", "住所を間違えました", "別の住所に送ってもらえますか", "お届け先を変更してください"],
        "pt": ["preciso mudar o endereço de entrega", "coloquei o endereço errado", "podem enviar para outro endereço?", "alterar endereço de envio"],
        "it": ["devo cambiare l'indirizzo di spedizione", "ho sbagliato indirizzo", "potete spedirlo a un altro indirizzo?", "modificare l'indirizzo di consegna"],
    },
    "return_policy": {
        "en": ["what is your return policy", "can I return an item", "how do I return something", "how many days do I have to return"],
        "zh": ["退货政策是什么", "可以退货吗", "怎么退货", "几天内可以退货"],
        "es": ["¿cuál es su política de devoluciones?", "¿puedo devolver un producto?", "¿cómo hago una devolución?", "¿cuántos días tengo para devolver?"],
        "fr": ["quelle est votre politique de retour ?", "puis-je retourner un article ?", "comment faire un retour", "combien de jours pour retourner"],
        "de": ["wie sind Ihre Rückgabebedingungen?", "kann ich einen Artikel zurückschicken?", "wie funktioniert die Rücksendung", "wie lange habe ich Zeit für eine Rückgabe"],
        "ja": ["返品ポリシーを教えてください", "返品できますか", "返品の方法は？", "何日以内なら返品できますか"],
        "pt": ["qual é a política de devolução?", "posso devolver um produto?", "como faço uma devolução?", "quantos dias tenho para devolver?"],
        "it": ["qual è la vostra politica di reso?", "posso restituire un articolo?", "come faccio un reso?", "quanti giorni ho per il reso?"],
    },
    "exchange": {
        "en": ["I want to exchange for a bigger size", "can I swap it for another colour", "the shoes are too small, can I exchange them", "exchange this item", "I'd like a different size instead", "can I get a replacement in medium"],
        "zh": ["我想换一个大一码的", "可以换个颜色吗", "鞋子小了，能换吗", "我要换货", "尺码不合适想换"],
        "es": ["quiero cambiarlo por una talla más grande", "¿puedo cambiarlo por otro color?", "los zapatos me quedan chicos, ¿puedo cambiarlos?", "quiero hacer un cambio de producto", "necesito otra talla"],
        "fr": ["je voudrais échanger contre une taille au-dessus", "puis-je l'échanger contre une autre couleur", "les chaussures sont trop petites, puis-je les échanger", "faire un échange", "il me faut une autre taille"],
        "de": ["ich möchte es gegen eine größere Größe umtauschen", "kann ich es in einer anderen Farbe umtauschen", "die Schuhe sind zu klein, kann ich sie umtauschen", "Artikel umtauschen", "ich brauche eine andere Größe"],
        "ja": ["大きいサイズに交換したい", "別の色に交換できますか", "靴が小さいので交換できますか", "商品を交換したいです", "サイズ交換をお願いします"],
        "pt": ["quero trocar por um tamanho maior", "posso trocar por outra cor?", "o sapato ficou pequeno, posso trocar?", "quero fazer uma troca", "preciso de outro tamanho"],
        "it": ["vorrei cambiarlo con una taglia più grande", "posso cambiarlo con un altro colore?", "le scarpe sono piccole, posso cambiarle?", "voglio fare un cambio", "mi serve un'altra taglia"],
    },
    "refund_request": {
        "en": ["I want my money back", "please refund my order", "the item is broken, I want a refund"],
        "zh": ["我要退款", "请给我退款", "东西坏了，我要求退钱", "能退款吗"],
        "es": ["quiero que me devuelvan el dinero", "solicito un reembolso", "el producto llegó roto, quiero un reembolso", "¿me pueden reembolsar?"],
        "fr": ["je veux être remboursé", "je demande un remboursement", "l'article est cassé, je veux un remboursement", "pouvez-vous me rembourser"],
        "de": ["ich möchte mein Geld zurück", "bitte erstatten Sie den Betrag", "der Artikel ist kaputt, ich will eine Rückerstattung", "können Sie mir das Geld erstatten"],
        "ja": ["返金してください", "返金をお願いしたい", "商品が壊れていたので返金してほしい", "お金を返してもらえますか"],
        "pt": ["quero meu dinheiro de volta", "quero um reembolso", "o produto veio quebrado, quero reembolso", "podem me reembolsar?"],
        "it": ["voglio indietro i miei soldi", "chiedo un rimborso", "l'articolo è rotto, voglio il rimborso", "potete rimborsarmi?"],
    },
    "refund_status": {
        "en": ["where is my refund", "I haven't received my refund yet", "when will the refund reach my card"],
        "zh": ["退款什么时候到账", "我的退款还没收到", "退款进度怎么样了", "退的钱到哪了"],
        "es": ["¿dónde está mi reembolso?", "todavía no recibo mi reembolso", "¿cuándo llega el reembolso a mi tarjeta?", "estado de mi reembolso"],
        "fr": ["où en est mon remboursement ?", "je n'ai pas encore reçu mon remboursement", "quand le remboursement arrivera sur ma carte", "suivi du remboursement"],
        "de": ["wo bleibt meine Rückerstattung?", "ich habe meine Erstattung noch nicht erhalten", "wann wird das Geld auf meine Karte gebucht", "Status meiner Rückerstattung"],
        "ja": ["返金はいつ反映されますか", "まだ返金されていません", "返金の状況を知りたい", "返金はどうなっていますか"],
        "pt": ["cadê meu reembolso?", "ainda não recebi o reembolso", "quando o estorno cai no cartão?", "status do meu reembolso"],
        "it": ["dov'è il mio rimborso?", "non ho ancora ricevuto il rimborso", "quando arriva il rimborso sulla carta?", "stato del mio rimborso"],
    },
    "payment_problem": {
        "en": ["my payment failed", "I was charged twice", "card declined at checkout"],
        "zh": ["付款失败了", "被扣了两次钱", "信用卡支付不成功", "付款时一直报错"],
        "es": ["mi pago no se procesó", "me cobraron dos veces", "rechazaron mi tarjeta al pagar", "error al pagar"],
        "fr": ["mon paiement a échoué", "j'ai été débité deux fois", "ma carte a été refusée", "erreur lors du paiement"],
        "de": ["meine Zahlung ist fehlgeschlagen", "mir wurde doppelt abgebucht", "meine Karte wurde abgelehnt", "Fehler beim Bezahlen"],
        "ja": ["支払いができません", "二重に請求されました", "カードが使えませんでした", "決済エラーが出ます"],
        "pt": ["meu pagamento falhou", "fui cobrado duas vezes", "o cartão foi recusado", "erro ao pagar"],
        "it": ["il pagamento non è andato a buon fine", "mi avete addebitato due volte", "la carta è stata rifiutata", "errore durante il pagamento"],
    },
    "payment_methods": {
        "en": ["do you accept PayPal", "can I pay with Apple Pay", "which payment methods are accepted"],
        "zh": ["可以用支付宝吗", "支持微信支付吗", "有哪些付款方式", "能用信用卡付款吗"],
        "es": ["¿aceptan PayPal?", "¿puedo pagar con tarjeta?", "¿qué formas de pago tienen?", "¿se puede pagar contra reembolso?"],
        "fr": ["acceptez-vous PayPal ?", "puis-je payer par carte ?", "quels moyens de paiement acceptez-vous", "peut-on payer en plusieurs fois"],
        "de": ["akzeptieren Sie PayPal?", "kann ich mit Kreditkarte bezahlen?", "welche Zahlungsarten gibt es", "kann ich auf Rechnung bezahlen"],
        "ja": ["PayPalは使えますか", "クレジットカードで払えますか", "支払い方法は何がありますか", "代引きはできますか"],
        "pt": ["vocês aceitam PayPal?", "posso pagar com Pix?", "quais formas de pagamento vocês aceitam?", "dá para parcelar no cartão?"],
        "it": ["accettate PayPal?", "posso pagare con carta?", "quali metodi di pagamento accettate?", "si può pagare in contrassegno?"],
    },
    "invoice": {
        "en": ["can I get an invoice for my order", "I need a VAT invoice", "send me the receipt"],
        "zh": ["可以开发票吗", "我需要发票", "请把收据发给我", "怎么下载发票"],
        "es": ["¿me pueden enviar la factura?", "necesito una factura", "mándenme el recibo", "¿dónde descargo la factura?"],
        "fr": ["pouvez-vous m'envoyer la facture ?", "j'ai besoin d'une facture avec TVA", "envoyez-moi le reçu", "où télécharger ma facture"],
        "de": ["können Sie mir die Rechnung schicken?", "ich brauche eine Rechnung mit MwSt", "bitte senden Sie mir den Beleg", "wo kann ich die Rechnung herunterladen"],
        "ja": ["領収書を発行してもらえますか", "請求書が必要です", "インボイスを送ってください", "領収書はどこでダウンロードできますか"],
        "pt": ["podem me enviar a nota fiscal?", "preciso de uma fatura", "me mandem o recibo", "onde baixo a nota fiscal?"],
        "it": ["potete inviarmi la fattura?", "ho bisogno di una fattura", "mandatemi la ricevuta", "dove scarico la fattura?"],
    },
    "account": {
        "en": ["I forgot my password", "I can't log in to my account", "how do I delete my account", "change the email on my account"],
        "zh": ["忘记密码了", "登录不了账号", "怎么注销账户", "修改账户邮箱"],
        "es": ["olvidé mi contraseña", "no puedo iniciar sesión", "¿cómo elimino mi cuenta?", "cambiar el correo de mi cuenta"],
        "fr": ["j'ai oublié mon mot de passe", "je n'arrive pas à me connecter", "comment supprimer mon compte", "changer l'e-mail de mon compte"],
        "de": ["ich habe mein Passwort vergessen", "ich kann mich nicht anmelden", "wie lösche ich mein Konto", "E-Mail-Adresse im Konto ändern"],
        "ja": ["パスワードを忘れました", "ログインできません", "アカウントを削除したい", "登録メールアドレスを変更したい"],
        "pt": ["esqueci minha senha", "não consigo entrar na minha conta", "como excluo minha conta?", "mudar o e-mail da conta"],
        "it": ["ho dimenticato la password", "non riesco ad accedere", "come elimino il mio account?", "cambiare l'email dell'account"],
    },
    "product_availability": {
        "en": ["is this in stock", "when will the black one be back in stock", "do you have it in size XL", "is this product still available", "will you restock this item", "do you have this in blue", "is the medium sold out"],
        "zh": ["这个还有货吗", "黑色什么时候补货", "有XL码吗", "这款还卖吗", "蓝色的有现货吗"],
        "es": ["¿está disponible?", "¿cuándo vuelve a haber stock?", "¿lo tienen en talla XL?", "¿todavía venden este producto?", "¿lo hay en azul?"],
        "fr": ["est-ce que c'est en stock ?", "quand le noir sera-t-il de nouveau disponible", "l'avez-vous en taille XL", "ce produit est-il encore disponible", "existe-t-il en bleu"],
        "de": ["ist das auf Lager?", "wann ist das schwarze wieder verfügbar", "gibt es das in Größe XL", "ist dieser Artikel noch erhältlich", "gibt es das auch in Blau"],
        "ja": ["在庫はありますか", "黒はいつ再入荷しますか", "XLサイズはありますか", "この商品はまだ買えますか", "青色はありますか"],
        "pt": ["tem em estoque?", "quando volta o preto?", "tem no tamanho GG?", "esse produto ainda está disponível?", "tem na cor azul?"],
        "it": ["è disponibile?", "quando torna disponibile il nero?", "c'è la taglia XL?", "questo prodotto è ancora in vendita?", "c'è anche in blu?"],
    },
    "human_agent": {
        "en": ["can I talk to a human", "I want to speak to a real person", "connect me with an agent"],
        "zh": ["转人工", "我要找人工客服", "能让真人跟我说吗", "人工服务"],
        "es": ["quiero hablar con una persona", "pásame con un agente", "necesito hablar con alguien real", "atención humana por favor"],
        "fr": ["je veux parler à un humain", "passez-moi un conseiller", "puis-je parler à une vraie personne", "un agent s'il vous plaît"],
        "de": ["ich möchte mit einem Menschen sprechen", "verbinden Sie mich mit einem Mitarbeiter", "kann ich mit einer echten Person reden", "bitte einen Kundenberater"],
        "ja": ["人と話したい", "オペレーターにつないでください", "担当者と話せますか", "有人対応をお願いします"],
        "pt": ["quero falar com um atendente", "me passa para um humano", "posso falar com uma pessoa de verdade?", "atendimento humano por favor"],
        "it": ["voglio parlare con una persona", "passatemi un operatore", "posso parlare con un essere umano?", "un operatore per favore"],
    },
    "complaint": {
        "en": ["this is terrible service", "I am very disappointed", "I want to file a complaint"],
        "zh": ["我要投诉", "服务太差了", "非常失望", "质量太差了，我要投诉"],
        "es": ["quiero poner una queja", "el servicio es pésimo", "estoy muy decepcionado", "esto es inaceptable"],
        "fr": ["je veux déposer une réclamation", "le service est nul", "je suis très déçu", "c'est inacceptable"],
        "de": ["ich möchte mich beschweren", "der Service ist schrecklich", "ich bin sehr enttäuscht", "das ist inakzeptabel"],
        "ja": ["クレームを言いたい", "対応がひどい", "とてもがっかりしました", "苦情を申し立てたい"],
        "pt": ["quero fazer uma reclamação", "o atendimento é péssimo", "estou muito decepcionado", "isso é inaceitável"],
        "it": ["voglio fare un reclamo", "il servizio è pessimo", "sono molto deluso", "è inaccettabile"],
    },
    "greeting": {
        "en": ["hi", "hello", "hey there", "good morning", "hi, anyone there?", "hello, I have a question", "good afternoon", "hey"],
        "zh": ["你好", "您好", "在吗", "哈喽", "你好，我有个问题"],
        "es": ["hola", "buenos días", "buenas tardes", "hola, tengo una pregunta", "¿hay alguien?"],
        "fr": ["bonjour", "salut", "bonsoir", "bonjour, j'ai une question", "il y a quelqu'un ?"],
        "de": ["hallo", "guten Tag", "guten Morgen", "hallo, ich habe eine Frage", "ist da jemand?"],
        "ja": ["こんにちは", "おはようございます", "こんばんは", "すみません、質問があります", "どなたかいますか"],
        "pt": ["olá", "oi", "bom dia", "boa tarde", "olá, tenho uma dúvida"],
        "it": ["ciao", "buongiorno", "buonasera", "salve, ho una domanda", "c'è qualcuno?"],
    },
    "thanks": {
        "en": ["thanks", "thank you so much", "thanks, that helps", "great, thank you", "ok thanks bye", "perfect, cheers", "much appreciated", "that's all, thanks"],
        "zh": ["谢谢", "非常感谢", "好的谢谢", "谢谢你的帮助", "好的，再见"],
        "es": ["gracias", "muchas gracias", "perfecto, gracias", "gracias por la ayuda", "vale, adiós"],
        "fr": ["merci", "merci beaucoup", "parfait, merci", "merci pour votre aide", "d'accord, au revoir"],
        "de": ["danke", "vielen Dank", "super, danke", "danke für die Hilfe", "ok, tschüss"],
        "ja": ["ありがとうございます", "助かりました", "了解です、ありがとう", "ご対応ありがとうございました", "わかりました、失礼します"],
        "pt": ["obrigado", "muito obrigada", "perfeito, obrigado", "obrigado pela ajuda", "ok, tchau"],
        "it": ["grazie", "grazie mille", "perfetto, grazie", "grazie per l'aiuto", "ok, arrivederci"],
    },
}

# Answer templates (minijinja syntax). Variables: contact.name, order.number,
# order.status, order.tracking_url, order.estimated_delivery, shop.name,
# shop.returns_url, shop.return_days.
ANSWERS = {
    "order_status": {
        "en": "Hi {{contact.name}}, your order {{order.number}} is {{order.status}}. You can follow it here: {{order.tracking_url}}",
        "zh": "{{contact.name}}您好，您的订单 {{order.number}} 当前状态：{{order.status}}。物流跟踪：{{order.tracking_url}}",
        "es": "Hola {{contact.name}}, tu pedido {{order.number}} está {{order.status}}. Puedes seguirlo aquí: {{order.tracking_url}}",
        "fr": "Bonjour {{contact.name}}, votre commande {{order.number}} est {{order.status}}. Suivez-la ici : {{order.tracking_url}}",
        "de": "Hallo {{contact.name}}, Ihre Bestellung {{order.number}} ist {{order.status}}. Sendungsverfolgung: {{order.tracking_url}}",
        "ja": "{{contact.name}}様、ご注文 {{order.number}} の状況は「{{order.status}}」です。配送状況はこちら：{{order.tracking_url}}",
        "pt": "Olá {{contact.name}}, seu pedido {{order.number}} está {{order.status}}. Acompanhe aqui: {{order.tracking_url}}",
        "it": "Ciao {{contact.name}}, il tuo ordine {{order.number}} è {{order.status}}. Puoi seguirlo qui: {{order.tracking_url}}",
    },
    "shipping_delay": {
        "en": "I'm sorry your parcel is taking longer than expected, {{contact.name}}. Order {{order.number}} is {{order.status}}; latest tracking: {{order.tracking_url}}. If it hasn't moved in a few days, we'll open an investigation with the carrier.",
        "zh": "{{contact.name}}，很抱歉包裹比预期慢。订单 {{order.number}} 当前状态：{{order.status}}，最新物流：{{order.tracking_url}}。如果几天内仍无更新，我们会向承运商发起查询。",
        "es": "Siento que tu paquete se esté retrasando, {{contact.name}}. El pedido {{order.number}} está {{order.status}}; seguimiento: {{order.tracking_url}}. Si no avanza en unos días, abriremos una reclamación con la transportista.",
        "fr": "Désolé pour ce retard, {{contact.name}}. La commande {{order.number}} est {{order.status}} ; suivi : {{order.tracking_url}}. Sans évolution d'ici quelques jours, nous ouvrirons une enquête auprès du transporteur.",
        "de": "Es tut uns leid, dass Ihr Paket länger braucht, {{contact.name}}. Bestellung {{order.number}} ist {{order.status}}; Sendungsverfolgung: {{order.tracking_url}}. Wenn sich in ein paar Tagen nichts tut, leiten wir einen Nachforschungsauftrag ein.",
        "ja": "{{contact.name}}様、お荷物の到着が遅れており申し訳ございません。ご注文 {{order.number}} の状況：{{order.status}}、追跡：{{order.tracking_url}}。数日たっても動きがない場合は配送業者に調査を依頼いたします。",
        "pt": "Desculpe pela demora, {{contact.name}}. O pedido {{order.number}} está {{order.status}}; rastreio: {{order.tracking_url}}. Se não houver atualização em alguns dias, abriremos uma investigação com a transportadora.",
        "it": "Ci dispiace per il ritardo, {{contact.name}}. L'ordine {{order.number}} è {{order.status}}; tracciamento: {{order.tracking_url}}. Se non si muove entro qualche giorno, apriremo un'indagine con il corriere.",
    },
    "delivery_time": {
        "en": "Your order {{order.number}} is expected on {{order.estimated_delivery}}. You can follow it here: {{order.tracking_url}}",
        "zh": "订单 {{order.number}} 预计 {{order.estimated_delivery}} 送达，物流跟踪：{{order.tracking_url}}",
        "es": "Tu pedido {{order.number}} debería llegar el {{order.estimated_delivery}}. Seguimiento: {{order.tracking_url}}",
        "fr": "Votre commande {{order.number}} est attendue le {{order.estimated_delivery}}. Suivi : {{order.tracking_url}}",
        "de": "Ihre Bestellung {{order.number}} wird voraussichtlich am {{order.estimated_delivery}} zugestellt. Sendungsverfolgung: {{order.tracking_url}}",
        "ja": "ご注文 {{order.number}} のお届け予定日は {{order.estimated_delivery}} です。追跡：{{order.tracking_url}}",
        "pt": "Seu pedido {{order.number}} deve chegar em {{order.estimated_delivery}}. Rastreio: {{order.tracking_url}}",
        "it": "Il tuo ordine {{order.number}} è previsto per il {{order.estimated_delivery}}. Tracciamento: {{order.tracking_url}}",
    },
    "delivery_options": {
        "en": "{{shop.name}} ships worldwide. Shipping options and costs are shown at checkout; express delivery is available for most countries.",
        "zh": "{{shop.name}} 支持全球配送，运费和配送方式会在结账时显示，大多数国家可选加急。",
        "es": "{{shop.name}} envía a todo el mundo. Verás las opciones y costes de envío al pagar; el envío exprés está disponible en la mayoría de países.",
        "fr": "{{shop.name}} livre dans le monde entier. Les options et frais de livraison s'affichent au paiement ; l'express est disponible dans la plupart des pays.",
        "de": "{{shop.name}} liefert weltweit. Versandarten und -kosten sehen Sie an der Kasse; Expressversand ist für die meisten Länder möglich.",
        "ja": "{{shop.name}}は全世界に発送しています。配送方法と送料はご購入手続き画面に表示されます。多くの国で速達便をご利用いただけます。",
        "pt": "A {{shop.name}} envia para o mundo todo. As opções e custos de frete aparecem no checkout; entrega expressa disponível na maioria dos países.",
        "it": "{{shop.name}} spedisce in tutto il mondo. Opzioni e costi di spedizione sono indicati al checkout; la spedizione express è disponibile per la maggior parte dei paesi.",
    },
    "cancel_order": {
        "en": "I can help with that, {{contact.name}}. Order {{order.number}} is {{order.status}}; if it hasn't shipped yet we can cancel it and refund you in full.",
        "zh": "好的{{contact.name}}，订单 {{order.number}} 当前状态：{{order.status}}。如果尚未发货，我们可以为您取消并全额退款。",
        "es": "Te ayudo, {{contact.name}}. El pedido {{order.number}} está {{order.status}}; si aún no se ha enviado, podemos cancelarlo y reembolsarte el total.",
        "fr": "Je m'en occupe, {{contact.name}}. La commande {{order.number}} est {{order.status}} ; si elle n'est pas encore expédiée, nous pouvons l'annuler et vous rembourser intégralement.",
        "de": "Gern, {{contact.name}}. Bestellung {{order.number}} ist {{order.status}}; solange sie nicht versandt ist, können wir sie stornieren und den vollen Betrag erstatten.",
        "ja": "{{contact.name}}様、承知しました。ご注文 {{order.number}} の状況は「{{order.status}}」です。未発送であればキャンセルし全額返金いたします。",
        "pt": "Posso ajudar, {{contact.name}}. O pedido {{order.number}} está {{order.status}}; se ainda não foi enviado, podemos cancelar e reembolsar o valor total.",
        "it": "Ti aiuto io, {{contact.name}}. L'ordine {{order.number}} è {{order.status}}; se non è ancora stato spedito possiamo annullarlo e rimborsarti per intero.",
    },
    "change_order": {
        "en": "Order {{order.number}} is {{order.status}}. Tell me what you'd like to change (item, size, quantity) and we'll update it if it hasn't shipped yet.",
        "zh": "订单 {{order.number}} 当前状态：{{order.status}}。请告诉我需要修改的内容（商品、尺码、数量），未发货前我们可以为您更改。",
        "es": "El pedido {{order.number}} está {{order.status}}. Dime qué quieres cambiar (producto, talla, cantidad) y lo actualizamos si aún no se ha enviado.",
        "fr": "La commande {{order.number}} est {{order.status}}. Dites-moi ce que vous souhaitez modifier (article, taille, quantité) ; nous le ferons si elle n'est pas encore expédiée.",
        "de": "Bestellung {{order.number}} ist {{order.status}}. Sagen Sie mir, was Sie ändern möchten (Artikel, Größe, Menge); vor dem Versand passen wir sie gern an.",
        "ja": "ご注文 {{order.number}} の状況は「{{order.status}}」です。変更したい内容（商品・サイズ・数量）をお知らせください。発送前であれば変更いたします。",
        "pt": "O pedido {{order.number}} está {{order.status}}. Diga o que deseja alterar (produto, tamanho, quantidade) e atualizamos se ainda não foi enviado.",
        "it": "L'ordine {{order.number}} è {{order.status}}. Dimmi cosa vuoi modificare (articolo, taglia, quantità) e lo aggiorniamo se non è ancora stato spedito.",
    },
    "change_address": {
        "en": "Please send the new address for order {{order.number}}. If the parcel hasn't shipped yet we'll update it right away.",
        "zh": "请发送订单 {{order.number}} 的新收货地址，若尚未发货我们会立即更新。",
        "es": "Envíanos la nueva dirección para el pedido {{order.number}}. Si aún no se ha enviado, la cambiamos enseguida.",
        "fr": "Envoyez-nous la nouvelle adresse pour la commande {{order.number}}. Si le colis n'est pas encore parti, nous la modifions tout de suite.",
        "de": "Bitte senden Sie uns die neue Adresse für Bestellung {{order.number}}. Ist das Paket noch nicht versandt, ändern wir sie sofort.",
        "ja": "ご注文 {{order.number}} の新しいお届け先をお送りください。未発送であればすぐに変更いたします。",
        "pt": "Envie o novo endereço para o pedido {{order.number}}. Se ainda não foi despachado, alteramos na hora.",
        "it": "Inviaci il nuovo indirizzo per l'ordine {{order.number}}. Se il pacco non è ancora partito, lo aggiorniamo subito.",
    },
    "return_policy": {
        "en": "You can return unused items within {{shop.return_days}} days of delivery. Start a return here: {{shop.returns_url}}",
        "zh": "商品在签收后 {{shop.return_days}} 天内且未使用可以退货，请在此发起退货：{{shop.returns_url}}",
        "es": "Puedes devolver artículos sin usar dentro de los {{shop.return_days}} días posteriores a la entrega. Inicia la devolución aquí: {{shop.returns_url}}",
        "fr": "Vous pouvez retourner les articles non utilisés sous {{shop.return_days}} jours après la livraison. Commencez un retour ici : {{shop.returns_url}}",
        "de": "Unbenutzte Artikel können Sie innerhalb von {{shop.return_days}} Tagen nach Lieferung zurückgeben. Rücksendung starten: {{shop.returns_url}}",
        "ja": "未使用の商品はお届けから{{shop.return_days}}日以内であれば返品いただけます。返品手続きはこちら：{{shop.returns_url}}",
        "pt": "Você pode devolver itens não usados em até {{shop.return_days}} dias após a entrega. Inicie a devolução aqui: {{shop.returns_url}}",
        "it": "Puoi restituire gli articoli non usati entro {{shop.return_days}} giorni dalla consegna. Avvia il reso qui: {{shop.returns_url}}",
    },
    "exchange": {
        "en": "Happy to exchange it, {{contact.name}}. Start an exchange here: {{shop.returns_url}} and tell us the size or colour you'd like.",
        "zh": "{{contact.name}}，可以为您换货。请在此发起换货：{{shop.returns_url}}，并告诉我们想要的尺码或颜色。",
        "es": "Con gusto lo cambiamos, {{contact.name}}. Inicia el cambio aquí: {{shop.returns_url}} e indícanos la talla o el color que prefieres.",
        "fr": "Avec plaisir, {{contact.name}}. Lancez l'échange ici : {{shop.returns_url}} et indiquez-nous la taille ou la couleur souhaitée.",
        "de": "Gern tauschen wir um, {{contact.name}}. Umtausch starten: {{shop.returns_url}} – nennen Sie uns die gewünschte Größe oder Farbe.",
        "ja": "{{contact.name}}様、交換を承ります。こちらから手続きしてください：{{shop.returns_url}}。ご希望のサイズや色もお知らせください。",
        "pt": "Trocamos com prazer, {{contact.name}}. Inicie a troca aqui: {{shop.returns_url}} e diga o tamanho ou a cor que prefere.",
        "it": "Volentieri, {{contact.name}}. Avvia il cambio qui: {{shop.returns_url}} e indicaci la taglia o il colore che preferisci.",
    },
    "refund_request": {
        "en": "I'm sorry about that, {{contact.name}}. I've passed your refund request for order {{order.number}} to our team; you'll get a confirmation by e-mail.",
        "zh": "{{contact.name}}，非常抱歉。您订单 {{order.number}} 的退款申请已提交给团队处理，确认信息将通过邮件发送。",
        "es": "Lo siento, {{contact.name}}. He enviado tu solicitud de reembolso del pedido {{order.number}} al equipo; recibirás la confirmación por correo.",
        "fr": "Désolé, {{contact.name}}. J'ai transmis votre demande de remboursement pour la commande {{order.number}} ; vous recevrez une confirmation par e-mail.",
        "de": "Das tut uns leid, {{contact.name}}. Ihre Erstattungsanfrage zu Bestellung {{order.number}} ist weitergeleitet; Sie erhalten eine Bestätigung per E-Mail.",
        "ja": "{{contact.name}}様、ご迷惑をおかけし申し訳ございません。ご注文 {{order.number}} の返金申請を担当に送りました。確認メールをお送りします。",
        "pt": "Sinto muito, {{contact.name}}. Encaminhei seu pedido de reembolso do pedido {{order.number}} à equipe; você receberá a confirmação por e-mail.",
        "it": "Mi dispiace, {{contact.name}}. Ho inoltrato la richiesta di rimborso per l'ordine {{order.number}}; riceverai una conferma via e-mail.",
    },
    "refund_status": {
        "en": "Refunds for order {{order.number}} are sent back to the original payment method and usually appear within 5-10 business days.",
        "zh": "订单 {{order.number}} 的退款将原路退回，通常 5-10 个工作日内到账。",
        "es": "El reembolso del pedido {{order.number}} se devuelve al método de pago original y suele verse en 5-10 días hábiles.",
        "fr": "Le remboursement de la commande {{order.number}} est versé sur le moyen de paiement d'origine et apparaît en général sous 5 à 10 jours ouvrés.",
        "de": "Die Erstattung für Bestellung {{order.number}} geht an das ursprüngliche Zahlungsmittel und ist meist nach 5–10 Werktagen sichtbar.",
        "ja": "ご注文 {{order.number}} の返金は元のお支払い方法に戻され、通常5〜10営業日で反映されます。",
        "pt": "O reembolso do pedido {{order.number}} volta para a forma de pagamento original e costuma aparecer em 5 a 10 dias úteis.",
        "it": "Il rimborso dell'ordine {{order.number}} torna sul metodo di pagamento originale e di solito compare entro 5-10 giorni lavorativi.",
    },
    "payment_problem": {
        "en": "Sorry about the payment trouble, {{contact.name}}. A failed payment is never charged; if you see a double charge, the duplicate is released automatically within a few days. I can also check it for you.",
        "zh": "{{contact.name}}，抱歉给您带来付款问题。付款失败不会扣款；如出现重复扣款，多扣的金额会在几天内自动退回，我也可以帮您核查。",
        "es": "Siento el problema con el pago, {{contact.name}}. Un pago fallido no se cobra; si ves un cargo doble, el duplicado se libera solo en unos días. También puedo revisarlo.",
        "fr": "Désolé pour ce souci de paiement, {{contact.name}}. Un paiement échoué n'est jamais débité ; un double débit est annulé automatiquement sous quelques jours. Je peux aussi vérifier pour vous.",
        "de": "Entschuldigen Sie die Zahlungsprobleme, {{contact.name}}. Fehlgeschlagene Zahlungen werden nicht belastet; eine doppelte Belastung wird nach wenigen Tagen automatisch freigegeben. Ich kann es auch prüfen.",
        "ja": "{{contact.name}}様、お支払いの件でご不便をおかけしました。失敗した決済は請求されません。二重請求は数日以内に自動で取り消されます。こちらで確認することもできます。",
        "pt": "Desculpe pelo problema no pagamento, {{contact.name}}. Pagamento recusado não é cobrado; cobrança em dobro é estornada automaticamente em alguns dias. Posso verificar para você.",
        "it": "Ci scusiamo per il problema di pagamento, {{contact.name}}. Un pagamento fallito non viene addebitato; un doppio addebito viene annullato automaticamente in pochi giorni. Posso anche controllare.",
    },
    "payment_methods": {
        "en": "{{shop.name}} accepts major credit and debit cards, PayPal, Apple Pay and Google Pay. All options are shown at checkout.",
        "zh": "{{shop.name}} 支持主流信用卡/借记卡、PayPal、Apple Pay 和 Google Pay，结账时会显示所有方式。",
        "es": "{{shop.name}} acepta las principales tarjetas, PayPal, Apple Pay y Google Pay. Verás todas las opciones al pagar.",
        "fr": "{{shop.name}} accepte les principales cartes bancaires, PayPal, Apple Pay et Google Pay. Toutes les options s'affichent au paiement.",
        "de": "{{shop.name}} akzeptiert gängige Kredit- und Debitkarten, PayPal, Apple Pay und Google Pay. Alle Optionen sehen Sie an der Kasse.",
        "ja": "{{shop.name}}では主要なクレジット/デビットカード、PayPal、Apple Pay、Google Payがご利用いただけます。お支払い画面ですべての方法をご確認ください。",
        "pt": "A {{shop.name}} aceita os principais cartões, PayPal, Apple Pay e Google Pay. Todas as opções aparecem no checkout.",
        "it": "{{shop.name}} accetta le principali carte, PayPal, Apple Pay e Google Pay. Tutte le opzioni sono indicate al checkout.",
    },
    "invoice": {
        "en": "I'll send the invoice for order {{order.number}} to your e-mail address. You can also download it from your account.",
        "zh": "我会把订单 {{order.number}} 的发票发送到您的邮箱，您也可以在账户中下载。",
        "es": "Te envío la factura del pedido {{order.number}} por correo. También puedes descargarla desde tu cuenta.",
        "fr": "Je vous envoie la facture de la commande {{order.number}} par e-mail. Vous pouvez aussi la télécharger depuis votre compte.",
        "de": "Ich sende Ihnen die Rechnung zu Bestellung {{order.number}} per E-Mail. Sie können sie auch in Ihrem Konto herunterladen.",
        "ja": "ご注文 {{order.number}} の請求書をメールでお送りします。アカウントページからもダウンロードできます。",
        "pt": "Vou enviar a nota do pedido {{order.number}} para o seu e-mail. Você também pode baixá-la na sua conta.",
        "it": "Ti invio la fattura dell'ordine {{order.number}} via e-mail. Puoi anche scaricarla dal tuo account.",
    },
    "account": {
        "en": "For log-in problems use \"Forgot password\" on the sign-in page. For other account changes, tell me what you need and I'll help, {{contact.name}}.",
        "zh": "登录问题请在登录页点击“忘记密码”。其他账户修改请告诉我具体需求，{{contact.name}}。",
        "es": "Si no puedes entrar, usa \"Olvidé mi contraseña\" en la página de acceso. Para otros cambios en la cuenta, dime qué necesitas, {{contact.name}}.",
        "fr": "Pour un problème de connexion, utilisez « Mot de passe oublié » sur la page de connexion. Pour toute autre modification, dites-moi ce dont vous avez besoin, {{contact.name}}.",
        "de": "Bei Anmeldeproblemen nutzen Sie „Passwort vergessen“ auf der Anmeldeseite. Für andere Kontoänderungen sagen Sie mir, was Sie brauchen, {{contact.name}}.",
        "ja": "ログインできない場合はログイン画面の「パスワードをお忘れの方」をご利用ください。その他のアカウント変更はご要望をお知らせください、{{contact.name}}様。",
        "pt": "Para problemas de login, use \"Esqueci minha senha\" na página de entrada. Para outras alterações na conta, diga o que precisa, {{contact.name}}.",
        "it": "Per problemi di accesso usa \"Password dimenticata\" nella pagina di login. Per altre modifiche all'account dimmi cosa ti serve, {{contact.name}}.",
    },
    "product_availability": {
        "en": "Let me check that for you, {{contact.name}}. Stock levels on the product page are live; sold-out sizes usually come back within 2-3 weeks.",
        "zh": "{{contact.name}}，我来帮您查一下。商品页面的库存是实时的，售罄的尺码通常 2-3 周内补货。",
        "es": "Lo reviso, {{contact.name}}. El stock de la página del producto está actualizado; las tallas agotadas suelen volver en 2-3 semanas.",
        "fr": "Je vérifie pour vous, {{contact.name}}. Le stock affiché sur la fiche produit est à jour ; les tailles épuisées reviennent en général sous 2 à 3 semaines.",
        "de": "Ich sehe für Sie nach, {{contact.name}}. Der Bestand auf der Produktseite ist aktuell; ausverkaufte Größen kommen meist in 2–3 Wochen wieder.",
        "ja": "{{contact.name}}様、確認いたします。商品ページの在庫はリアルタイムです。売り切れのサイズは通常2〜3週間で再入荷します。",
        "pt": "Vou verificar, {{contact.name}}. O estoque na página do produto é atualizado; tamanhos esgotados costumam voltar em 2 a 3 semanas.",
        "it": "Controllo subito, {{contact.name}}. La disponibilità sulla pagina del prodotto è aggiornata; le taglie esaurite di solito tornano entro 2-3 settimane.",
    },
    "human_agent": {
        "en": "Of course, {{contact.name}}. I'm passing you to a member of our team; they'll reply here shortly.",
        "zh": "好的{{contact.name}}，正在为您转接人工客服，请稍候，同事会在这里回复您。",
        "es": "Claro, {{contact.name}}. Te paso con una persona del equipo; te responderá aquí en breve.",
        "fr": "Bien sûr, {{contact.name}}. Je vous transfère à un membre de l'équipe ; il vous répondra ici très vite.",
        "de": "Natürlich, {{contact.name}}. Ich verbinde Sie mit einem Teammitglied; Sie erhalten hier in Kürze eine Antwort.",
        "ja": "{{contact.name}}様、承知しました。担当者におつなぎします。まもなくこちらで返信いたします。",
        "pt": "Claro, {{contact.name}}. Vou transferir você para alguém da equipe; a resposta chega aqui em breve.",
        "it": "Certo, {{contact.name}}. Ti passo a un membro del team; ti risponderà qui a breve.",
    },
    "complaint": {
        "en": "I'm really sorry about your experience, {{contact.name}}. I've recorded your complaint and a team lead will get back to you.",
        "zh": "{{contact.name}}，非常抱歉给您带来不好的体验。您的投诉已记录，主管会尽快联系您。",
        "es": "Siento mucho lo ocurrido, {{contact.name}}. He registrado tu queja y un responsable se pondrá en contacto contigo.",
        "fr": "Je suis vraiment désolé, {{contact.name}}. J'ai enregistré votre réclamation et un responsable vous recontactera.",
        "de": "Das tut mir sehr leid, {{contact.name}}. Ich habe Ihre Beschwerde aufgenommen; eine Teamleitung meldet sich bei Ihnen.",
        "ja": "{{contact.name}}様、ご不快な思いをおかけし誠に申し訳ございません。ご意見を記録し、責任者よりご連絡いたします。",
        "pt": "Sinto muito pela sua experiência, {{contact.name}}. Registrei sua reclamação e um responsável entrará em contato.",
        "it": "Mi dispiace molto, {{contact.name}}. Ho registrato il tuo reclamo e un responsabile ti ricontatterà.",
    },
    "greeting": {
        "en": "Hi {{contact.name}}! Welcome to {{shop.name}}. How can I help you today?",
        "zh": "{{contact.name}}您好！欢迎光临{{shop.name}}，请问有什么可以帮您？",
        "es": "¡Hola {{contact.name}}! Bienvenido a {{shop.name}}. ¿En qué puedo ayudarte?",
        "fr": "Bonjour {{contact.name}} ! Bienvenue chez {{shop.name}}. Comment puis-je vous aider ?",
        "de": "Hallo {{contact.name}}! Willkommen bei {{shop.name}}. Wie kann ich helfen?",
        "ja": "{{contact.name}}様、こんにちは！{{shop.name}}へようこそ。ご用件をお聞かせください。",
        "pt": "Olá {{contact.name}}! Bem-vindo à {{shop.name}}. Como posso ajudar?",
        "it": "Ciao {{contact.name}}! Benvenuto da {{shop.name}}. Come posso aiutarti?",
    },
    "thanks": {
        "en": "You're welcome, {{contact.name}}! Anything else I can help with?",
        "zh": "不客气，{{contact.name}}！还有其他可以帮您的吗？",
        "es": "¡De nada, {{contact.name}}! ¿Algo más en lo que pueda ayudarte?",
        "fr": "Avec plaisir, {{contact.name}} ! Puis-je vous aider pour autre chose ?",
        "de": "Gern geschehen, {{contact.name}}! Kann ich sonst noch helfen?",
        "ja": "どういたしまして、{{contact.name}}様！他にお手伝いできることはありますか？",
        "pt": "De nada, {{contact.name}}! Posso ajudar em mais alguma coisa?",
        "it": "Prego, {{contact.name}}! Posso aiutarti in altro?",
    },
}

LANGS = ["en", "zh", "es", "fr", "de", "ja", "pt", "it"]


def main():
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_BITEXT
    rows = list(csv.DictReader(open(src, encoding="utf-8", newline="")))
    rng = random.Random(SEED)
    intents = []
    for name in DESCRIPTIONS:
        examples = {lang: list(HAND.get(name, {}).get(lang, [])) for lang in LANGS}
        sampled = []
        sources = BITEXT.get(name, [])
        for i, b in enumerate(sources):
            pool = sorted({r["instruction"].strip() for r in rows
                           if r["intent"] == b and "{{" not in r["instruction"]})
            share = PER_INTENT // len(sources) + (1 if i < PER_INTENT % len(sources) else 0)
            sampled += rng.sample(pool, min(share, len(pool)))
        seen = set()
        examples["en"] = [x for x in sampled + examples["en"] if not (x.lower() in seen or seen.add(x.lower()))]
        missing = [l for l in LANGS if not examples[l] or l not in ANSWERS[name]]
        if missing:
            raise SystemExit(f"{name}: missing languages {missing}")
        intents.append({
            "name": name,
            "description": DESCRIPTIONS[name],
            "examples": examples,
            "answers": {l: ANSWERS[name][l] for l in LANGS},
        })
    pack = {
        "name": "ecommerce",
        "version": 1,
        "languages": LANGS,
        "source": "English examples sampled from the Bitext customer-support training set "
                  "(CDLA-Sharing-1.0); other examples and answers written for Ferry.",
        "intents": intents,
    }
    out = HERE / "pack.json"
    out.write_text(json.dumps(pack, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    n = sum(len(v) for i in intents for v in i["examples"].values())
    print(f"wrote {out}: {len(intents)} intents, {n} examples, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
