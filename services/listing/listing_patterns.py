"""The pattern tables of the listing content rules (domain.md section 2): the one place to extend a rule.

Phrases (`shared.text.phrase`) match folded text on word boundaries ("wholesale" is not "sale"),
across spacing, punctuation and leetspeak tricks, in English, German, French, Spanish, Italian,
Japanese and Chinese. All are RE2 (linear time). `listing_rules` applies them; contact details
(L4) come from `shared.contact`.
"""

from __future__ import annotations

from typing import Final

from shared import review_words as w
from shared.text import AnyOf, any_of, compile_phrases, compile_re2, near, phrase, phrases

_NUMBER: Final = r"~\d+(?:[.,]\d+)?"

# "Sale" that is a place or an event, not an offer: blanked before L2 ("Sale Street", "garage sale").
NOT_A_SALE: Final = compile_re2(
    phrases(
        "garage/yard/bake/estate/rummage/jumble/boot/charity/church/tag/moving sale/sales",
        "sale street/road/lane/avenue/way/drive/st/rd/ave/place",
        # Signage for other people's sales: "Sale Price Tags", "Sale Signs".
        "sale sign/signs/tag/tags/label/labels/sticker/stickers/banner/banners/price+tags/price+labels/price+stickers",
    )
)

NOT_A_REVIEW: Final = compile_phrases(*w.NOT_A_REVIEW)
_REQUEST: Final = phrases(*w.REQUEST)

PROMOTIONAL: Final = compile_phrases(
    "free shipping/delivery/postage/p&p",
    "best seller/sellers/selling",
    "~#\\s?1(?:[^0-9]|$)",
    "~(?:^|[^\\pL\\pN])(?:no|nr|n°|nº)\\.?\\s?1(?:[^0-9.,]|$)",
    "hot item/items/deal/deals/selling/seller/sellers",
    "shipping/delivery/postage free/included",
    "top rated", "black+friday/cyber+monday deal/deals/sale/offer/offers/special", "lowest/best price/prices",
    "cheapest", "deal of the day", "special offer/offers", "clearance/flash/mega/big sale", "~\\d+\\s?% off",
    "sale",
    "on sale",
    "limited time/offer",
    "~100\\s?% guarantee*/garantie*/garantiert/garanti*/satisfaction",
    # de
    "kostenlos* versand/lieferung", "versandkostenfrei/portofrei", "gratis versand", "angebot/sonderangebot",
    "ausverkauf", "schnappchen", "zeitlich begrenzt", "nur fur kurze zeit", "meistverkauft*",
    # fr
    "livraison gratuite/offerte", "frais de port offerts/gratuits", "meilleure/meilleures vente/ventes",
    "soldes", "promo/promos/promotion", "offre limitee", "duree limitee", "temps limite",
    # es
    "envio gratis/gratuito", "mas vendido/vendidos/vendida", "oferta/ofertas", "rebajas", "tiempo limitado",
    "promocion",
    # it
    "spedizione gratuita/gratis", "piu venduto/venduti/venduta", "offerta/offerte", "saldi",
    "tempo limitato", "promozione",
    # ja, zh
    "送料無料", "ベストセラー", "売れ筋", "セール", "期間限定", "限定価格", "特価", "激安", "人気商品",
    "包邮", "免运费", "免邮", "热卖", "畅销", "爆款", "限时", "特价", "促销", "秒杀",
)
SALES_RANK: Final = compile_phrases(
    "best seller/sellers rank/ranking/ranked",
    "sales rank/ranking/ranked",
    "top seller/sellers/selling",
    "top ~\\d+ in/on",
    "~#\\s?1 best seller/sellers/selling",
    "ranked 1st/first in/on",
    "1st/first in sales",
    "~#\\s?1 in/on/des/en/nelle/nel/dans",
    "number one/1 in/on", "no/nr/n 1 in/on",
    "ranked one/1/first",
    "ranked ~#\\s?1",
    "bsr",
    # de
    "bestseller rang", "verkaufsrang", "meistverkauft*", "platz/nr/nummer 1/eins in/bei",
    # fr
    "classement des meilleures ventes", "n/no/numero 1/un des ventes", "numero un/1 dans/en",
    # es
    "numero 1/uno en ventas", "mas vendido/vendidos en", "el mas vendido", "ranking de mas vendidos",
    "top ventas",
    # it
    "numero 1/uno nelle vendite", "il piu venduto", "classifica _2 bestseller/vendite", "piu venduti in",
    # ja, zh
    "~売れ筋ランキング|ランキング\\s*第?\\s*1\\s*位|売上\\s*(?:no\\.?|ナンバー|第)\\s*1|販売数\\s*(?:no\\.?|第)\\s*1",
    "销量第一", "销量排名", "销量冠军", "畅销榜", "排名第一", "销冠",
)
OFFERS: Final = compile_re2(
    any_of(
        phrases(
            "in stock", "out of stock", f"only {_NUMBER} left", "limited stock",
            "ships/ship today/tomorrow/free/fast/worldwide",
            "ready to ship/dispatch", f"was {_NUMBER} now {_NUMBER}",
            "shipping/delivery/postage is/ist/est/es/e free/included/gratis/kostenlos/gratuite/gratuito",
            "ships/ship same/next day", "ships/ship within", f"ships/ship in {_NUMBER}",
            "dispatch/dispatched/dispatches today/tomorrow/within", "dispatch/dispatched/dispatches same/next day",
            "same/next day shipping/delivery/dispatch",
            "~\\d+\\s*(?:h|hrs?|hours?|stunden|heures|horas|ore) shipping/delivery/dispatch/versand/livraison/envio",
            "free/fast/express/quick shipping/delivery/dispatch/returns/return/postage",
            f"{_NUMBER} ~\\s?% off", f"{_NUMBER} percent/per cent off", "buy one/1 get one/1", "bogo",
            "usd/eur/gbp/cad/aud/jpy/rmb ~\\s?\\d+(?:[.,]\\d+)?",
            f"{_NUMBER} usd/eur/gbp/cad/aud/jpy/rmb/dollars/dollar/euros/euro/yen/yuan/bucks/quid",
            # de
            "auf lager", "sofort lieferbar/verfugbar", "vorratig", "versand noch heute", "versand heute/morgen",
            "schnelle/schneller/express versand/lieferung", f"nur noch {_NUMBER}", f"{_NUMBER} ~\\s?% rabatt",
            "lieferung morgen",
            # fr
            "en stock", "expedie/expedies/expediee today/aujourd hui/demain", "expedition rapide/immediate/gratuite",
            "livraison rapide/express/gratuite/offerte", f"plus que {_NUMBER}",
            # es
            "envio rapido/gratis/gratuito/inmediato/urgente", f"envio en {_NUMBER}", "disponible ya",
            "ultimas unidades", f"solo quedan {_NUMBER}",
            # it
            "disponibile subito", "pronta consegna", "spedizione rapida/veloce/gratuita/immediata/gratis",
            "spedito/spediti oggi", "ultimi pezzi", f"solo {_NUMBER} rimasti",
            # ja, zh
            "在庫あり", "在庫有り", "即日発送", "即納", "当日発送", "翌日配送", "翌日発送", "送料無料", "税込",
            "现货", "有货", "当天发货", "当日发货", "次日达", "包邮", "免运费", "仅售", "特价",
        ),
        # Prices: "$9.99", "9,99 €", "1980円", "99元".
        r"[$€£¥₹]\s?\d+(?:[.,]\d+)*|\d+(?:[.,]\d+)*\s?[$€£¥₹円元]",
    )
)
REVIEWS: Final = AnyOf(
    compile_re2(any_of(
        phrases(
            f"{w.LEAVE} us/me/uns/nous/nos/ci _3 {w.REVIEW}/{w.STARS}",
            f"{w.LEAVE} a/an/eine/einen/un/une/una/uno/some/your/ihre/votre/tu/su/la/il _2 {w.REVIEW}",
            "please/kindly/do rate/review us/me/this/our/it",
            "rate/review us",
            "rave review/reviews",
            f"{w.FIVE} {w.STARS} review/reviews/rating/ratings/feedback/bewertung*/avis/resena*/recension*",
            "customer/customers/buyer/buyers/user/users/verified review/reviews/rating/ratings/feedback",
            "customers/buyers/clients/users/reviewers say/says/said/rave/raved/agree/love/loved",
            "verified buyer/purchase/purchaser",
            "~rated\\s+\\d(?:[.,]\\d)?\\s*(?:/\\s*5|out\\s+of\\s+(?:5|five)|stars?)",
            "~\\d(?:[.,]\\d)?\\s+(?:out\\s+of|von|sur|de|su)\\s+(?:5|five|funf|cinq|cinco|cinque) " + w.STARS,
            "star star star",
            # A score: "4.9/5", "reviews: 9/10", "4.9 stars".
            "~\\d[.,]\\d\\s*/\\s*(?:5|10)\\b",
            "~\\d[.,]\\d " + w.STARS,
            f"rated/rating/ratings/{w.REVIEW}/score ~[^a-z0-9]{{0,3}}\\d(?:[.,]\\d)?\\s*/\\s*(?:5|10)\\b",
            "loved/trusted/chosen/recommended by _2 customers/buyers/users/clients/kunden/clients/clientes/clienti",
            "happy/satisfied/delighted customers/buyers/clients",
            "testimonial/testimonials",
            "don t/dont forget to rate/review/leave",
            # de, fr, es, it: the customers' voice
            "kundenbewertung*/kundenrezension*/kundenmeinung*", "zufriedene kunden",
            "bewerten sie uns", "bewerte uns", "avis clients/client", "notez nous", "temoignage/temoignages",
            "opiniones/resenas/valoraciones de clientes/compradores", "calificanos/valoranos", "testimonios",
            "recensioni dei clienti/clienti", "valutaci", "testimonianze",
            # ja, zh
            "お客様の声", "口コミ", "クチコミ", "高評価", "买家评价", "用户评价", "买家秀", "五星", "好评",
        ),
        r"星\s*(?:5|五)|(?:5|五)\s*つ?星",
        # A quoted testimonial signed by someone: "'Love it' - Anna".
        r"[\"'][^\"'\n]{2,150}[\"']\s*-+\s*\pL",
    )),
    compile_re2(near(_REQUEST, phrase(w.REVIEW))),
    compile_re2(near(_REQUEST, phrase(w.FIVE) + r"[^.!?;\n]{0,3}" + phrase(w.STARS))),
)
TAG: Final = compile_re2(r"<\s*/?\s*[a-z][a-z0-9]*[^<>]*>|<!--|<![a-z]|<\?")
ALLOWED_TAG: Final = compile_re2(r"<br\s*/?>")
# HTML written as entities, which a page decoding twice would render: "&lt;b&gt;".
ENTITIES: Final = {"&lt;": "<", "&#60;": "<", "&#x3c;": "<", "&gt;": ">", "&#62;": ">", "&#x3e;": ">"}
