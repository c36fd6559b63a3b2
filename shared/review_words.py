"""The words of reviews and of asking, in seven languages (en, de, fr, es, it, ja, zh), as phrase tokens.

Shared by the listing rule L7 and the seller-message rules M4-M8. Tokens follow `shared.text.phrase`:
`a/b` alternatives, `stem*` any ending; words are folded (no accents, lower case). A word that is
also ordinary talk ("note", "rate", "star") is left out here and used only where its context says review.
"""

from __future__ import annotations

from typing import Final

#: A review as a thing.
REVIEW: Final = (
    "review/reviews/feedback/feedbacks/rating/ratings/testimonial*"
    "/bewertung*/rezension*/kundenmeinung*"
    "/avis/evaluation*/commentaire*/temoignage*"
    "/resena/resenas/opinion/opiniones/valoracion*/calificacion*/testimonio*"
    "/recensione/recensioni/valutazione/valutazioni/giudizio/giudizi/testimonianz*"
    "/レビュー/評価/口コミ/クチコミ/感想/评价/评论/好评/点评/差评"
)
#: Stars, as ratings are given.
STARS: Final = "star/stars/sterne/sternen/stern/etoile/etoiles/estrella/estrellas/stella/stelle/星"
#: Five (stars).
FIVE: Final = "5/five/funf/cinq/cinco/cinque/full/五/5つ/五つ"
#: Good, as a review should be ("a positive review").
POSITIVE: Final = (
    "positive/positiv*/positif*/good/great/glowing/excellent/favourable/favorable/nice/top/perfect/awesome/amazing"
    "/stellar/high/highest/best/outstanding/happy/gute/guten/gutes/tolle*/bon/bonne/bons/excellente*"
    "/buena/buenas/buen/excelente*/buona/buone/ottima/ottime/高/好"
)
#: Bad, as a review should not be.
NEGATIVE: Final = (
    "negative/negativ*/bad/poor/low/neutral/critical/1+star/one+star/schlecht*/mauvais*/negatif*/mala/malas"
    "/negativa*/cattiva*/悪い/低/差"
)
#: Asking for something, in each language.
REQUEST: Final = (
    "please", "pls", "plz", "kindly", "leave", "give", "write", "post", "submit", "consider", "hope", "hoping",
    "ask/asking", "request", "encourage", "if you", "could you", "can you", "would you", "don t forget",
    "dont forget", "remember to", "would/we+d/i+d love/like/appreciate/welcome", "appreciate it if",
    "take a moment/minute/second", "mind sharing", "tell others", "tell us",
    "would be great/appreciated/lovely/nice/awesome/amazing/wonderful/helpful", "would/will mean a lot",
    "means a lot", "bitte", "hinterlass*", "schreib*",
    "geben sie", "gib/gebt", "abgeben", "wurden uns/mich freuen", "freuen uns", "konnten sie", "vergessen sie nicht",
    "merci de", "s il vous plait", "svp", "laiss*", "donnez/donne", "pourriez", "n hesitez pas", "serions ravis",
    "por favor", "deja/dejar/dejanos/deje/dejenos/danos", "podria*", "nos encantaria", "no olvides",
    "te/le agradeceriamos", "per favore", "lascia*", "dacci", "potrebbe", "ci farebbe piacere",
    "non dimenticare", "ti preghiamo", "お願い", "ください", "下さい", "いただけ", "頂け", "書いて", "投稿",
    "してね", "嬉しい", "请", "麻烦", "求", "给个", "给我们", "留下", "欢迎", "帮忙",
)
#: Leaving a review: the verbs.
LEAVE: Final = (
    "leave/leaving/write/writing/post/posting/give/giving/submit/submitting/add/adding/share/drop/provide"
    "/hinterlass*/schreib*/geben/gib/abgeben/abzugeben/laiss*/laisser/ecrire/donner/donnez/publier"
    "/deja/dejar/dejanos/deje/escribir/dar/danos/publicar/lascia*/lasciare/scrivere/dare/dacci/pubblicare"
    "/書く/書いて/投稿/留下/写/给"
)
#: Happy, as only happy buyers should review.
HAPPY: Final = (
    "happy/satisfied/pleased/delighted/content/like/liked/love/loved/enjoy/enjoyed/zufrieden*/glucklich*/satisfait*/content*/heureu*"
    "/contento/contenta/satisfecho*/soddisfatt*/felice/満足/气/满意"
)
#: Contacting the seller.
CONTACT: Final = (
    "contact/message/email/e+mail/write+to/talk+to/speak+to/speak+with/reach+out/reach/get+in+touch/let/tell"
    "/inform/notify/kontaktier*/kontakt*/schreiben+sie+uns/melden+sie+sich/contactez*/contacter/ecrivez"
    "/contact*/contacta*/escribenos/contatta*/scrivici/連絡/联系/問い合わせ/お問い合わせ"
)
#: Before (a review).
BEFORE: Final = "before/prior+to/instead+of/rather+than/bevor/vor/avant/antes/prima/前/之前/先"
#: Changing or removing (a review).
CHANGE: Final = (
    "chang*/updat*/revis*/remov*/delet*/edit*/amend*/withdr*/retract*/modif*/reconsider*/rais*/upgrad*"
    "/adjust*/increas*/improv*/take+down/taking+down/eras*/revisit*/andern/anderung/loschen/entfernen"
    "/zuruckziehen/bearbeiten/supprim*/retir*/cambi*/elimin*/borr*/quitar/rimuov*/rimuova/cancell*"
    "/削除/変更/修正/取り消/删除/修改/撤/改"
)
#: Paying for a review.
INCENTIVE: Final = (
    "refund*/reimburs*/money+back/cash/cashback/gift/gifts/gift+card/gift+cards/discount*/coupon*/voucher*"
    "/reward*/compensat*/bonus/rebate*/credit/credits/pay+you/pay+back/paypal/present/surprise/freebie/freebies"
    "/prize/prizes/win/raffle/lottery/giveaway/sweepstake*/sample/samples"
    "/ruckerstattung/erstatt*/gutschein*/geschenk*/rabatt*/belohnung/remboursement/rembourse*/cadeau*"
    "/bon+d+achat/reduction/devolvemos/devolucion/reembolso/regalo*/descuento/cupon/rimborso/rimbors*/buono"
    "/sconto/omaggio/返金/ギフト/プレゼント/クーポン/割引/ポイント/返现/返钱/礼品/红包/优惠/送"
)

#: Review words that are no review: the seller reviewing something, or asking the buyer to read
#: something ("please review the attached instructions"). Blanked before the review rules look.
NOT_A_REVIEW: Final = (
    "review/rate/reviewing the/these/those/attached/enclosed/instructions/manual/size/photos",
    "we/i/will/shall/ll/team/to/can/may review/reviewing/reviewed",
    "review/reviewing your return/returns/request/requests/case/claim/photo/photos/picture/pictures/image"
    "/images/order/issue/message/details/information/account",
    "review/reviewed it/them/this/that/everything",
    "review/rezension/recensione/resena/avis of/von/di/de/du/del chapter/kapitel/book/buch/libro/livre/film/movie",
)
