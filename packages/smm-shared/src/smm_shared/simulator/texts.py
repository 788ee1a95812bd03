"""What the simulated people write: per-language templates and names. Pure data, no I/O.

Templates are whole sentences written for each language (slot filling is limited to numbers,
card digits, ticket numbers, handles and hashtags), so no noun is ever inflected by code.
Numbers that take a noun go through the language's own ``days``/``hours`` formatter (Russian
and Ukrainian plurals, German dative after "seit").

Slots every template may use: ``{amount}`` ``{days}`` ``{hours}`` ``{last4}`` ``{ref}``
``{friend}`` (a handle, without "@") ``{giveaway}`` ``{trend}`` ``{feature}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

BRAND: Final = "DemoBank"
#: The brand's handle on X (and how people address it elsewhere).
BRAND_HANDLE: Final = f"@{BRAND}"
#: The brand's own posts on X that people reply under, one per anchor post of the scenario.
BRAND_POSTS: Final = (
    "Meet DemoPay: pay with your phone or watch in one tap. Rolling out to everyone this week.",
    "Planned maintenance tonight 01:00-03:00 UTC: cards work, the app may be slow.",
    "Tell us: what should the DemoBank app do better this year?",
)
#: The hashtag of the giveaway under the one contest post.
GIVEAWAY_TAG: Final = "#DemoBankGiveaway"
#: The product everyone starts talking about; its hashtag trends over the run.
TREND_FEATURE: Final = "DemoPay"
TREND_TAG: Final = "#DemoPay"

# Template groups (the keys of ``Phrasebook.texts``).
COMPLAINT: Final = "complaint"
OUTAGE: Final = "outage"
PRAISE: Final = "praise"
QUESTION: Final = "question"
CONTEST: Final = "contest"
TREND_COMPLAINT: Final = "trend_complaint"
TREND_PRAISE: Final = "trend_praise"
TREND_QUESTION: Final = "trend_question"
FOLLOW_UP_NEGATIVE: Final = "follow_up_negative"
FOLLOW_UP_POSITIVE: Final = "follow_up_positive"
FOLLOW_UP_QUESTION: Final = "follow_up_question"
EDIT_NEGATIVE: Final = "edit_negative"
EDIT_POSITIVE: Final = "edit_positive"
EDIT_QUESTION: Final = "edit_question"
GROUPS: Final = (
    COMPLAINT, OUTAGE, PRAISE, QUESTION, CONTEST, TREND_COMPLAINT, TREND_PRAISE, TREND_QUESTION,
    FOLLOW_UP_NEGATIVE, FOLLOW_UP_POSITIVE, FOLLOW_UP_QUESTION, EDIT_NEGATIVE, EDIT_POSITIVE,
    EDIT_QUESTION,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FirstName:
    """A first name as written natively and in Latin letters (for handles), with its gender."""

    native: str
    latin: str
    female: bool


@dataclass(frozen=True, slots=True)
class LastName:
    """A family name in its masculine and feminine forms (equal in most languages)."""

    masculine: str
    feminine: str
    latin: str


@dataclass(frozen=True, slots=True)
class Phrasebook:
    """Everything one language needs: greetings, template groups, names and number formats."""

    language: str
    greetings: tuple[str, ...]
    texts: Mapping[str, tuple[str, ...]]
    first_names: tuple[FirstName, ...]
    last_names: tuple[LastName, ...]
    days: Callable[[int], str]
    hours: Callable[[int], str]
    money: Callable[[int], str]  # an amount given in US dollars, in the local currency


def _slavic_plural(n: int, one: str, few: str, many: str) -> str:
    """Russian/Ukrainian noun form after a number: 1 день, 2 дня, 5 дней, 11 дней, 21 день."""
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} {one}"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return f"{n} {few}"
    return f"{n} {many}"


def _grouped(amount: int, sep: str) -> str:
    return f"{amount:,}".replace(",", sep)


def _local(amount_usd: int, per_usd: float) -> int:
    """An amount in a local currency, rounded to two significant digits like people write it."""
    value = amount_usd * per_usd
    digits = max(0, len(str(int(value))) - 2)
    return int(round(value, -digits))


def _names(spec: str) -> tuple[FirstName, ...]:
    """First names from ``"Native/latin/f, Native/latin/m, ..."``."""
    names = []
    for item in spec.split(", "):
        native, latin, gender = item.split("/")
        names.append(FirstName(native, latin, gender == "f"))
    return tuple(names)


def _same(spec: str) -> tuple[LastName, ...]:
    """Family names that do not change with gender, from ``"Native/latin, ..."``."""
    names = []
    for item in spec.split(", "):
        native, latin = item.split("/")
        names.append(LastName(native, native, latin))
    return tuple(names)


EN = Phrasebook(
    language="en",
    greetings=("Hi @DemoBank!", "Hey DemoBank."),
    texts={
        COMPLAINT: (
            "My card was charged twice for the same purchase ({amount}) and support hasn't answered in {days}.",
            "A transfer of {amount} has been stuck as 'pending' for {days}. Ticket #{ref}, still no reply.",
            "The app logs me out every time I open the cards tab. Reinstalled it twice, same thing.",
            "Why was my card ending {last4} blocked without any warning? I'm abroad and can't pay for anything.",
        ),
        OUTAGE: (
            "Is the DemoBank app down? Can't log in at all, error 502 for the last {hours}.",
            "Card declined at three shops in a row just now. What is going on @DemoBank?",
            "App AND website are both down. I need to pay my rent today!!",
        ),
        PRAISE: (
            "Got my new card in two days and the cashback already shows up. Great job, DemoBank!",
            "Support solved my issue in the chat in ten minutes. Honestly impressed.",
            "The savings goals in the app are really handy, finally putting money aside every month 🙌",
        ),
        QUESTION: (
            "What's the daily limit for transfers to other banks? I need to send {amount}.",
            "Can I open a joint account in the app or do I have to visit a branch?",
            "Is there a fee for withdrawing cash abroad with the debit card?",
            "How long does a card replacement take? Mine ending {last4} is about to expire.",
        ),
        CONTEST: (
            "Count me in! {giveaway} @{friend} let's win this 🤞",
            "Joining the {giveaway}, would love that trip. Tagging @{friend}",
            "{giveaway} 🎉 fingers crossed! @{friend}",
        ),
        TREND_COMPLAINT: (
            "{feature} keeps failing at the terminal, had to pay with the plastic card anyway {trend}",
            "Added my card to {feature} and now the app says 'device not supported'?? {trend}",
        ),
        TREND_PRAISE: (
            "Paid for groceries with my watch through {feature}, took one second. Love it {trend}",
            "{feature} is the best thing DemoBank has shipped this year {trend}",
        ),
        TREND_QUESTION: (
            "Does {feature} work with Garmin watches or only with phones? {trend}",
            "Is there a limit per payment with {feature}? {trend}",
        ),
        FOLLOW_UP_NEGATIVE: (
            "Still nothing. Another {hours} gone.",
            "Hello?? Is anyone reading this?",
            "Called the hotline, waited 40 minutes and got disconnected. Unbelievable.",
        ),
        FOLLOW_UP_POSITIVE: (
            "Also, the new app design is much cleaner 👍",
            "Already recommended you to my sister.",
        ),
        FOLLOW_UP_QUESTION: (
            "Anyone? I still need an answer on this.",
            "Also, does the same apply to business accounts?",
            "Checked the FAQ but it says nothing about it.",
        ),
        EDIT_NEGATIVE: (
            "UPD: still not fixed.",
            "UPD: they finally answered but the money is still not back.",
        ),
        EDIT_POSITIVE: ("Edit: and the card is free for the first year!",),
        EDIT_QUESTION: (
            "UPD: found the answer in the app, thanks.",
            "Edit: it's a personal account, not a business one.",
        ),
    },
    first_names=_names(
        "James/james/m, Emily/emily/f, Michael/michael/m, Sarah/sarah/f, David/david/m, Jessica/jessica/f, Chris/chris/m, Megan/megan/f"
    ),
    last_names=_same(
        "Miller/miller, Johnson/johnson, Brown/brown, Davis/davis, Wilson/wilson, Taylor/taylor, Clark/clark"
    ),
    days=lambda n: f"{n} days",
    hours=lambda n: f"{n} hours",
    money=lambda a: f"${_grouped(a, ',')}",
)

RU = Phrasebook(
    language="ru",
    greetings=("Здравствуйте!", "DemoBank, добрый день."),
    texts={
        COMPLAINT: (
            "С карты дважды списали {amount} за одну покупку, поддержка молчит уже {days}.",
            "Перевод на {amount} висит в статусе «в обработке» уже {days}. Обращение №{ref}, ответа нет.",
            "Приложение выкидывает меня каждый раз, когда открываю вкладку с картами. Переустановка не помогает.",
            "Почему без предупреждения заблокировали карту *{last4}? Я за границей и не могу ни за что заплатить.",
        ),
        OUTAGE: (
            "Приложение DemoBank лежит? Не могу войти, ошибка 502 уже {hours}.",
            "Карта не проходит нигде, в трёх магазинах подряд отказ. Что происходит?",
            "И приложение, и сайт не работают. Мне сегодня платить за квартиру!!",
        ),
        PRAISE: (
            "Новую карту привезли за два дня, кэшбэк уже пришёл. Спасибо, DemoBank!",
            "Поддержка в чате решила вопрос за десять минут. Честно, приятно удивили.",
            "Цели накоплений в приложении — огонь, наконец-то откладываю каждый месяц 🙌",
        ),
        QUESTION: (
            "Какой дневной лимит на переводы в другие банки? Нужно отправить {amount}.",
            "Можно ли открыть совместный счёт в приложении или нужно идти в отделение?",
            "Есть ли комиссия за снятие наличных за границей по дебетовой карте?",
            "Сколько делается перевыпуск карты? У моей *{last4} заканчивается срок.",
        ),
        CONTEST: (
            "Участвую! {giveaway} @{friend}, давай выиграем 🤞",
            "{giveaway} 🎉 держу кулачки! Зову @{friend}",
            "Хочу в эту поездку! {giveaway} @{friend}",
        ),
        TREND_COMPLAINT: (
            "{feature} опять не сработал на кассе, пришлось платить пластиком {trend}",
            "Карта добавлена в {feature}, а приложение пишет «устройство не поддерживается» {trend}",
        ),
        TREND_PRAISE: (
            "Оплата продуктов часами через {feature} — за секунду. Кайф {trend}",
            "{feature} — лучшее, что DemoBank выпустил в этом году {trend}",
        ),
        TREND_QUESTION: (
            "{feature} работает с часами Garmin или только с телефонами? {trend}",
            "Есть ли лимит на одну оплату через {feature}? {trend}",
        ),
        FOLLOW_UP_NEGATIVE: (
            "Так ничего и не изменилось, прошло ещё {hours}.",
            "Ау? Кто-нибудь это читает?",
            "На горячей линии 40 минут ожидания, потом сброс. Просто нет слов.",
        ),
        FOLLOW_UP_POSITIVE: (
            "И новый дизайн приложения намного удобнее 👍",
            "Уже советую вас всем друзьям.",
        ),
        FOLLOW_UP_QUESTION: (
            "Кто-нибудь? Всё ещё нужен ответ.",
            "И ещё: для счетов ИП то же самое?",
            "В FAQ про это ничего нет.",
        ),
        EDIT_NEGATIVE: (
            "UPD: так и не исправили.",
            "UPD: ответили, но деньги так и не вернули.",
        ),
        EDIT_POSITIVE: ("UPD: и обслуживание карты первый год бесплатно!",),
        EDIT_QUESTION: (
            "UPD: ответ нашёлся в приложении, спасибо.",
            "UPD: счёт личный, не ИП.",
        ),
    },
    first_names=_names(
        "Анна/anna/f, Дмитрий/dmitry/m, Ольга/olga/f, Сергей/sergey/m, Екатерина/ekaterina/f, Алексей/alexey/m, Мария/maria/f, Иван/ivan/m"
    ),
    last_names=(
        LastName("Смирнов", "Смирнова", "smirnov"),
        LastName("Кузнецов", "Кузнецова", "kuznetsov"),
        LastName("Попов", "Попова", "popov"),
        LastName("Соколов", "Соколова", "sokolov"),
        LastName("Волков", "Волкова", "volkov"),
        LastName("Лебедев", "Лебедева", "lebedev"),
    ),
    days=lambda n: _slavic_plural(n, "день", "дня", "дней"),
    hours=lambda n: _slavic_plural(n, "час", "часа", "часов"),
    money=lambda a: f"{_grouped(_local(a, 90), ' ')} ₽",
)

UK = Phrasebook(
    language="uk",
    greetings=("Вітаю!", "DemoBank, добрий день."),
    texts={
        COMPLAINT: (
            "З картки двічі списали {amount} за одну покупку, підтримка мовчить уже {days}.",
            "Переказ на {amount} висить у статусі «в обробці» вже {days}. Звернення №{ref}, відповіді немає.",
            "Застосунок викидає мене щоразу, коли відкриваю вкладку з картками. Перевстановлення не допомагає.",
            "Чому без попередження заблокували картку *{last4}? Я за кордоном і не можу ні за що заплатити.",
        ),
        OUTAGE: (
            "Застосунок DemoBank лежить? Не можу увійти, помилка 502 вже {hours}.",
            "Картка ніде не проходить, у трьох магазинах поспіль відмова. Що відбувається?",
            "І застосунок, і сайт не працюють. Мені сьогодні платити за квартиру!!",
        ),
        PRAISE: (
            "Нову картку привезли за два дні, кешбек уже прийшов. Дякую, DemoBank!",
            "Підтримка в чаті вирішила питання за десять хвилин. Чесно, приємно здивували.",
            "Цілі накопичень у застосунку — вогонь, нарешті відкладаю щомісяця 🙌",
        ),
        QUESTION: (
            "Який денний ліміт на перекази в інші банки? Треба надіслати {amount}.",
            "Чи можна відкрити спільний рахунок у застосунку, чи треба йти у відділення?",
            "Чи є комісія за зняття готівки за кордоном дебетовою карткою?",
            "Скільки триває перевипуск картки? У моєї *{last4} закінчується термін.",
        ),
        CONTEST: (
            "Беру участь! {giveaway} @{friend}, виграймо 🤞",
            "{giveaway} 🎉 тримаю кулачки! Кличу @{friend}",
            "Хочу в цю подорож! {giveaway} @{friend}",
        ),
        TREND_COMPLAINT: (
            "{feature} знову не спрацював на касі, довелося платити пластиком {trend}",
            "Картку додано в {feature}, а застосунок пише «пристрій не підтримується» {trend}",
        ),
        TREND_PRAISE: (
            "Оплата продуктів годинником через {feature} — за секунду. Кайф {trend}",
            "{feature} — найкраще, що DemoBank випустив цього року {trend}",
        ),
        TREND_QUESTION: (
            "{feature} працює з годинниками Garmin чи лише з телефонами? {trend}",
            "Чи є ліміт на одну оплату через {feature}? {trend}",
        ),
        FOLLOW_UP_NEGATIVE: (
            "Досі нічого не змінилося, минуло ще {hours}.",
            "Агов? Хтось це читає?",
            "На гарячій лінії 40 хвилин очікування, потім скинули. Просто немає слів.",
        ),
        FOLLOW_UP_POSITIVE: (
            "І новий дизайн застосунку набагато зручніший 👍",
            "Вже раджу вас усім друзям.",
        ),
        FOLLOW_UP_QUESTION: (
            "Хтось? Досі потрібна відповідь.",
            "І ще: для рахунків ФОП те саме?",
            "У FAQ про це нічого немає.",
        ),
        EDIT_NEGATIVE: (
            "UPD: так і не виправили.",
            "UPD: відповіли, але гроші так і не повернули.",
        ),
        EDIT_POSITIVE: ("UPD: і обслуговування картки перший рік безкоштовне!",),
        EDIT_QUESTION: (
            "UPD: відповідь знайшлася в застосунку, дякую.",
            "UPD: рахунок особистий, не ФОП.",
        ),
    },
    first_names=_names(
        "Олена/olena/f, Андрій/andriy/m, Наталія/natalia/f, Тарас/taras/m, Ірина/iryna/f, Богдан/bohdan/m, Оксана/oksana/f, Максим/maksym/m"
    ),
    last_names=_same(
        "Шевченко/shevchenko, Коваленко/kovalenko, Бондаренко/bondarenko, Ткаченко/tkachenko, Мельник/melnyk, Кравчук/kravchuk"
    ),
    days=lambda n: _slavic_plural(n, "день", "дні", "днів"),
    hours=lambda n: _slavic_plural(n, "годину", "години", "годин"),
    money=lambda a: f"{_grouped(_local(a, 41), ' ')} грн",
)

ES = Phrasebook(
    language="es",
    greetings=("¡Hola, DemoBank!", "Buenas, @DemoBank."),
    texts={
        COMPLAINT: (
            "Me cobraron dos veces {amount} por la misma compra y soporte no responde desde hace {days}.",
            "Una transferencia de {amount} lleva {days} en 'pendiente'. Ticket #{ref} y nadie contesta.",
            "La app me cierra la sesión cada vez que abro la pestaña de tarjetas. Ya la reinstalé dos veces.",
            "¿Por qué bloquearon mi tarjeta terminada en {last4} sin avisar? Estoy de viaje y no puedo pagar nada.",
        ),
        OUTAGE: (
            "¿Se cayó la app de DemoBank? No puedo entrar, error 502 desde hace {hours}.",
            "Tarjeta rechazada en tres tiendas seguidas. ¿Qué está pasando?",
            "No funciona ni la app ni la web. ¡Hoy tengo que pagar el alquiler!",
        ),
        PRAISE: (
            "Me llegó la tarjeta nueva en dos días y el cashback ya aparece. ¡Bien hecho, DemoBank!",
            "El soporte por chat resolvió mi problema en diez minutos. La verdad, muy bien.",
            "Las metas de ahorro de la app son geniales, por fin ahorro algo cada mes 🙌",
        ),
        QUESTION: (
            "¿Cuál es el límite diario para transferencias a otros bancos? Necesito enviar {amount}.",
            "¿Se puede abrir una cuenta conjunta desde la app o tengo que ir a una sucursal?",
            "¿Hay comisión por sacar efectivo en el extranjero con la tarjeta de débito?",
            "¿Cuánto tarda la reposición de la tarjeta? La mía terminada en {last4} está por vencer.",
        ),
        CONTEST: (
            "¡Me apunto! {giveaway} @{friend} a ver si ganamos 🤞",
            "{giveaway} 🎉 ¡crucemos los dedos! @{friend}",
            "¡Quiero ese viaje! {giveaway} @{friend}",
        ),
        TREND_COMPLAINT: (
            "{feature} vuelve a fallar en el datáfono, tuve que pagar con la tarjeta física {trend}",
            "Agregué la tarjeta a {feature} y ahora la app dice 'dispositivo no compatible' {trend}",
        ),
        TREND_PRAISE: (
            "Pagué el súper con el reloj usando {feature}, un segundo. Me encanta {trend}",
            "{feature} es lo mejor que ha lanzado DemoBank este año {trend}",
        ),
        TREND_QUESTION: (
            "¿{feature} funciona con relojes Garmin o solo con móviles? {trend}",
            "¿Hay un límite por pago con {feature}? {trend}",
        ),
        FOLLOW_UP_NEGATIVE: (
            "Sigo sin respuesta. Ya pasaron otras {hours}.",
            "¿Hola? ¿Alguien lee esto?",
            "Llamé a la línea de atención, 40 minutos de espera y se cortó. Increíble.",
        ),
        FOLLOW_UP_POSITIVE: (
            "Además, el nuevo diseño de la app es mucho más claro 👍",
            "Ya se los recomendé a mi hermana.",
        ),
        FOLLOW_UP_QUESTION: (
            "¿Alguien? Sigo necesitando una respuesta.",
            "Y otra cosa: ¿aplica lo mismo para cuentas de empresa?",
            "Miré las preguntas frecuentes pero no dicen nada de esto.",
        ),
        EDIT_NEGATIVE: (
            "ACTUALIZACIÓN: sigue sin resolverse.",
            "ACTUALIZACIÓN: por fin respondieron, pero el dinero no ha vuelto.",
        ),
        EDIT_POSITIVE: ("Edito: ¡y la tarjeta es gratis el primer año!",),
        EDIT_QUESTION: (
            "Edito: encontré la respuesta en la app, gracias.",
            "Edito: es una cuenta personal, no de empresa.",
        ),
    },
    first_names=_names(
        "Lucía/lucia/f, Carlos/carlos/m, María/maria/f, Javier/javier/m, Sofía/sofia/f, Diego/diego/m, Valentina/valentina/f, Alejandro/alejandro/m"
    ),
    last_names=_same(
        "García/garcia, Martínez/martinez, López/lopez, Sánchez/sanchez, Romero/romero, Fernández/fernandez"
    ),
    days=lambda n: f"{n} días",
    hours=lambda n: f"{n} horas",
    money=lambda a: f"{_grouped(a, '.')} €",
)

PT = Phrasebook(
    language="pt",
    greetings=("Olá, DemoBank!", "Oi @DemoBank!"),
    texts={
        COMPLAINT: (
            "Cobraram duas vezes {amount} pela mesma compra e o suporte não responde há {days}.",
            "Uma transferência de {amount} está 'em processamento' há {days}. Protocolo {ref} e nada de resposta.",
            "O app me desloga toda vez que abro a aba de cartões. Já reinstalei duas vezes.",
            "Por que bloquearam meu cartão final {last4} sem aviso? Estou viajando e não consigo pagar nada.",
        ),
        OUTAGE: (
            "O app do DemoBank caiu? Não consigo entrar, erro 502 há {hours}.",
            "Cartão recusado em três lojas seguidas. O que está acontecendo?",
            "Nem o app nem o site funcionam. Preciso pagar o aluguel hoje!!",
        ),
        PRAISE: (
            "Meu cartão novo chegou em dois dias e o cashback já caiu. Mandou bem, DemoBank!",
            "O suporte pelo chat resolveu meu problema em dez minutos. Sério, muito bom.",
            "As metas de economia do app são demais, finalmente estou guardando dinheiro todo mês 🙌",
        ),
        QUESTION: (
            "Qual é o limite diário para transferências para outros bancos? Preciso enviar {amount}.",
            "Dá para abrir conta conjunta pelo app ou preciso ir a uma agência?",
            "Tem tarifa para sacar dinheiro no exterior com o cartão de débito?",
            "Quanto tempo leva a segunda via do cartão? O meu final {last4} está vencendo.",
        ),
        CONTEST: (
            "Tô dentro! {giveaway} @{friend} bora ganhar 🤞",
            "{giveaway} 🎉 torcendo muito! @{friend}",
            "Quero essa viagem! {giveaway} @{friend}",
        ),
        TREND_COMPLAINT: (
            "{feature} falhou de novo na maquininha, tive que pagar com o cartão físico {trend}",
            "Adicionei o cartão no {feature} e agora o app diz 'dispositivo não compatível' {trend}",
        ),
        TREND_PRAISE: (
            "Paguei o mercado com o relógio pelo {feature}, levou um segundo. Amei {trend}",
            "{feature} é a melhor coisa que o DemoBank lançou este ano {trend}",
        ),
        TREND_QUESTION: (
            "O {feature} funciona com relógio Garmin ou só com celular? {trend}",
            "Tem limite por pagamento no {feature}? {trend}",
        ),
        FOLLOW_UP_NEGATIVE: (
            "Continua sem resposta. Já se passaram mais {hours}.",
            "Alô?? Alguém lê isso aqui?",
            "Liguei na central, 40 minutos de espera e a ligação caiu. Inacreditável.",
        ),
        FOLLOW_UP_POSITIVE: (
            "E o novo visual do app ficou bem mais limpo 👍",
            "Já indiquei vocês para minha irmã.",
        ),
        FOLLOW_UP_QUESTION: (
            "Alguém? Ainda preciso de uma resposta.",
            "E mais uma coisa: vale o mesmo para conta PJ?",
            "Olhei o FAQ mas não fala nada sobre isso.",
        ),
        EDIT_NEGATIVE: (
            "ATUALIZANDO: continua sem solução.",
            "ATUALIZANDO: responderam, mas o dinheiro ainda não voltou.",
        ),
        EDIT_POSITIVE: ("Editando: e o cartão não tem anuidade no primeiro ano!",),
        EDIT_QUESTION: (
            "Editando: achei a resposta no app, valeu!",
            "Editando: é conta pessoal, não PJ.",
        ),
    },
    first_names=_names(
        "Ana/ana/f, João/joao/m, Beatriz/beatriz/f, Pedro/pedro/m, Larissa/larissa/f, Rafael/rafael/m, Camila/camila/f, Lucas/lucas/m"
    ),
    last_names=_same(
        "Silva/silva, Santos/santos, Oliveira/oliveira, Souza/souza, Costa/costa, Pereira/pereira"
    ),
    days=lambda n: f"{n} dias",
    hours=lambda n: f"{n} horas",
    money=lambda a: f"R$ {_grouped(_local(a, 5.5), '.')},00",
)

TL = Phrasebook(
    language="tl",
    greetings=("Hi DemoBank!", "Hello po, DemoBank!"),
    texts={
        COMPLAINT: (
            "Dalawang beses akong na-charge ng {amount} sa iisang purchase at wala pa ring sagot ang support pagkalipas ng {days}.",
            "Yung transfer ko na {amount} naka-'pending' pa rin nang {days}. Ticket #{ref}, wala pang reply.",
            "Nag-lo-logout yung app tuwing binubuksan ko yung cards tab. Dalawang beses ko nang ni-reinstall.",
            "Bakit na-block yung card ko ending {last4} nang walang abiso? Nasa abroad ako at hindi ako makabayad.",
        ),
        OUTAGE: (
            "Down ba ang DemoBank app? Hindi ako makapag-login, {hours} na ang error 502.",
            "Declined ang card ko sa tatlong tindahan sunod-sunod. Ano pong nangyayari?",
            "Parehong down ang app at website. Kailangan kong magbayad ng upa ngayon!!",
        ),
        PRAISE: (
            "Dumating yung bagong card ko in two days at may cashback na agad. Galing, DemoBank!",
            "Naayos ng support sa chat yung problema ko in ten minutes. Salamat po!",
            "Ang ganda ng savings goals sa app, sa wakas nakakaipon na ako buwan-buwan 🙌",
        ),
        QUESTION: (
            "Magkano po ang daily limit sa transfer sa ibang bangko? Kailangan kong magpadala ng {amount}.",
            "Pwede po bang mag-open ng joint account sa app o kailangan pumunta sa branch?",
            "May fee po ba ang pag-withdraw ng cash abroad gamit ang debit card?",
            "Gaano katagal po ang card replacement? Yung card ko ending {last4} ay malapit nang mag-expire.",
        ),
        CONTEST: (
            "Sali ako! {giveaway} @{friend} manalo tayo 🤞",
            "{giveaway} 🎉 sana manalo! @{friend}",
            "Gusto ko yung trip na 'to! {giveaway} @{friend}",
        ),
        TREND_COMPLAINT: (
            "Ayaw na naman gumana ng {feature} sa terminal, napilitan akong gumamit ng physical card {trend}",
            "Inadd ko yung card sa {feature} tapos sabi ng app 'device not supported' {trend}",
        ),
        TREND_PRAISE: (
            "Nagbayad ako sa grocery gamit ang relo through {feature}, isang segundo lang. Love it {trend}",
            "{feature} ang pinakamagandang nilabas ng DemoBank ngayong taon {trend}",
        ),
        TREND_QUESTION: (
            "Gumagana po ba ang {feature} sa Garmin watch o sa phone lang? {trend}",
            "May limit po ba per payment sa {feature}? {trend}",
        ),
        FOLLOW_UP_NEGATIVE: (
            "Wala pa rin. {hours} na naman ang lumipas.",
            "Hello?? May nagbabasa ba nito?",
            "Tumawag ako sa hotline, 40 minutes na naghintay tapos na-disconnect. Grabe.",
        ),
        FOLLOW_UP_POSITIVE: (
            "Tsaka mas malinis na yung bagong design ng app 👍",
            "Ni-recommend ko na kayo sa kapatid ko.",
        ),
        FOLLOW_UP_QUESTION: (
            "Kahit sino po? Kailangan ko pa rin ng sagot.",
            "Tsaka po, ganun din ba sa business accounts?",
            "Tiningnan ko yung FAQ pero walang sinasabi tungkol dito.",
        ),
        EDIT_NEGATIVE: (
            "UPDATE: hindi pa rin naaayos.",
            "UPDATE: sumagot na sila pero hindi pa rin bumabalik yung pera.",
        ),
        EDIT_POSITIVE: ("EDIT: libre pa yung card sa unang taon!",),
        EDIT_QUESTION: (
            "EDIT: nakita ko na yung sagot sa app, salamat po.",
            "EDIT: personal account po, hindi business.",
        ),
    },
    first_names=_names(
        "Maria/maria/f, Jose/jose/m, Angelica/angelica/f, Mark/mark/m, Kristine/kristine/f, Paolo/paolo/m, Jasmine/jasmine/f, Miguel/miguel/m"
    ),
    last_names=_same(
        "Santos/santos, Reyes/reyes, Cruz/cruz, Bautista/bautista, Mendoza/mendoza, dela Cruz/delacruz"
    ),
    days=lambda n: f"{n} araw",
    hours=lambda n: f"{n} oras",
    money=lambda a: f"₱{_grouped(_local(a, 57), ',')}",
)

DE = Phrasebook(
    language="de",
    greetings=("Hallo DemoBank!", "Guten Tag @DemoBank!"),
    texts={
        COMPLAINT: (
            "Mir wurden {amount} für denselben Einkauf doppelt abgebucht und der Support antwortet seit {days} nicht.",
            "Eine Überweisung über {amount} hängt seit {days} auf „in Bearbeitung“. Ticket #{ref}, keine Antwort.",
            "Die App meldet mich jedes Mal ab, wenn ich den Karten-Tab öffne. Zweimal neu installiert, keine Besserung.",
            "Warum wurde meine Karte mit der Endung {last4} ohne Vorwarnung gesperrt? Ich bin im Ausland und kann nichts bezahlen.",
        ),
        OUTAGE: (
            "Ist die DemoBank-App down? Ich komme nicht rein, seit {hours} Fehler 502.",
            "Karte in drei Läden hintereinander abgelehnt. Was ist da los?",
            "App UND Website sind down. Ich muss heute meine Miete zahlen!!",
        ),
        PRAISE: (
            "Die neue Karte war nach zwei Tagen da und das Cashback ist schon gutgeschrieben. Top, DemoBank!",
            "Der Chat-Support hat mein Problem in zehn Minuten gelöst. Ehrlich beeindruckend.",
            "Die Sparziele in der App sind super, endlich lege ich jeden Monat etwas zurück 🙌",
        ),
        QUESTION: (
            "Wie hoch ist das Tageslimit für Überweisungen an andere Banken? Ich muss {amount} überweisen.",
            "Kann ich ein Gemeinschaftskonto in der App eröffnen oder muss ich in eine Filiale?",
            "Fallen Gebühren an, wenn ich im Ausland mit der Debitkarte Bargeld abhebe?",
            "Wie lange dauert ein Kartentausch? Meine Karte mit der Endung {last4} läuft bald ab.",
        ),
        CONTEST: (
            "Bin dabei! {giveaway} @{friend} lass uns gewinnen 🤞",
            "{giveaway} 🎉 Daumen drücken! @{friend}",
            "Die Reise will ich! {giveaway} @{friend}",
        ),
        TREND_COMPLAINT: (
            "{feature} streikt schon wieder an der Kasse, musste doch mit der Karte zahlen {trend}",
            "Karte zu {feature} hinzugefügt und jetzt heißt es „Gerät nicht unterstützt“ {trend}",
        ),
        TREND_PRAISE: (
            "Einkauf mit der Uhr über {feature} bezahlt, eine Sekunde. Genial {trend}",
            "{feature} ist das Beste, was DemoBank dieses Jahr gebracht hat {trend}",
        ),
        TREND_QUESTION: (
            "Funktioniert {feature} auch mit Garmin-Uhren oder nur mit Handys? {trend}",
            "Gibt es ein Limit pro Zahlung mit {feature}? {trend}",
        ),
        FOLLOW_UP_NEGATIVE: (
            "Immer noch nichts. Wieder {hours} vergangen.",
            "Hallo?? Liest das hier überhaupt jemand?",
            "Bei der Hotline 40 Minuten in der Warteschleife, dann aufgelegt. Unfassbar.",
        ),
        FOLLOW_UP_POSITIVE: (
            "Und das neue App-Design ist viel übersichtlicher 👍",
            "Habe euch schon meiner Schwester empfohlen.",
        ),
        FOLLOW_UP_QUESTION: (
            "Jemand? Ich brauche immer noch eine Antwort.",
            "Und noch was: gilt das auch für Geschäftskonten?",
            "Die FAQ habe ich gelesen, da steht nichts dazu.",
        ),
        EDIT_NEGATIVE: (
            "UPDATE: immer noch nicht behoben.",
            "UPDATE: endlich eine Antwort, aber das Geld ist immer noch nicht zurück.",
        ),
        EDIT_POSITIVE: ("EDIT: und die Karte ist im ersten Jahr kostenlos!",),
        EDIT_QUESTION: (
            "EDIT: Antwort in der App gefunden, danke.",
            "EDIT: es ist ein Privatkonto, kein Geschäftskonto.",
        ),
    },
    first_names=_names(
        "Lena/lena/f, Jonas/jonas/m, Anna/anna/f, Lukas/lukas/m, Sophie/sophie/f, Felix/felix/m, Marie/marie/f, Paul/paul/m"
    ),
    last_names=_same(
        "Müller/mueller, Schmidt/schmidt, Schneider/schneider, Fischer/fischer, Weber/weber, Becker/becker"
    ),
    # Only ever used after "seit" (dative plural), with n >= 2.
    days=lambda n: f"{n} Tagen",
    hours=lambda n: f"{n} Stunden",
    money=lambda a: f"{_grouped(a, '.')} €",
)

FR = Phrasebook(
    language="fr",
    greetings=("Bonjour DemoBank !", "Bonsoir @DemoBank."),
    texts={
        COMPLAINT: (
            "On m'a débité deux fois {amount} pour le même achat et le support ne répond pas depuis {days}.",
            "Un virement de {amount} est bloqué « en cours » depuis {days}. Ticket n° {ref}, toujours pas de réponse.",
            "L'appli me déconnecte à chaque fois que j'ouvre l'onglet cartes. Réinstallée deux fois, rien n'y fait.",
            "Pourquoi ma carte se terminant par {last4} a-t-elle été bloquée sans prévenir ? Je suis à l'étranger et je ne peux rien payer.",
        ),
        OUTAGE: (
            "L'appli DemoBank est en panne ? Impossible de me connecter, erreur 502 depuis {hours}.",
            "Carte refusée dans trois magasins d'affilée. Qu'est-ce qui se passe ?",
            "Ni l'appli ni le site ne marchent. Je dois payer mon loyer aujourd'hui !!",
        ),
        PRAISE: (
            "Nouvelle carte reçue en deux jours et le cashback est déjà là. Bravo DemoBank !",
            "Le support par chat a réglé mon problème en dix minutes. Franchement top.",
            "Les objectifs d'épargne dans l'appli sont géniaux, enfin je mets de côté chaque mois 🙌",
        ),
        QUESTION: (
            "Quel est le plafond journalier pour les virements vers d'autres banques ? Je dois envoyer {amount}.",
            "Peut-on ouvrir un compte joint depuis l'appli ou faut-il passer en agence ?",
            "Y a-t-il des frais pour retirer des espèces à l'étranger avec la carte de débit ?",
            "Combien de temps prend le remplacement d'une carte ? La mienne se terminant par {last4} expire bientôt.",
        ),
        CONTEST: (
            "Je participe ! {giveaway} @{friend} on va gagner 🤞",
            "{giveaway} 🎉 je croise les doigts ! @{friend}",
            "Je veux ce voyage ! {giveaway} @{friend}",
        ),
        TREND_COMPLAINT: (
            "{feature} plante encore au terminal, j'ai dû payer avec la carte physique {trend}",
            "Carte ajoutée à {feature} et maintenant l'appli dit « appareil non compatible » {trend}",
        ),
        TREND_PRAISE: (
            "Courses payées avec ma montre via {feature}, une seconde. J'adore {trend}",
            "{feature}, c'est ce que DemoBank a sorti de mieux cette année {trend}",
        ),
        TREND_QUESTION: (
            "{feature} marche avec les montres Garmin ou seulement les téléphones ? {trend}",
            "Y a-t-il un plafond par paiement avec {feature} ? {trend}",
        ),
        FOLLOW_UP_NEGATIVE: (
            "Toujours rien, {hours} de plus.",
            "Allô ?? Quelqu'un lit ces messages ?",
            "La hotline : 40 minutes d'attente, puis coupé. Incroyable.",
        ),
        FOLLOW_UP_POSITIVE: (
            "Et le nouveau design de l'appli est bien plus clair 👍",
            "Je vous ai déjà recommandés à ma sœur.",
        ),
        FOLLOW_UP_QUESTION: (
            "Quelqu'un ? J'ai toujours besoin d'une réponse.",
            "Et aussi : c'est pareil pour les comptes pro ?",
            "J'ai lu la FAQ mais il n'y a rien là-dessus.",
        ),
        EDIT_NEGATIVE: (
            "MAJ : toujours pas réglé.",
            "MAJ : ils ont enfin répondu, mais l'argent n'est toujours pas revenu.",
        ),
        EDIT_POSITIVE: ("EDIT : et la carte est gratuite la première année !",),
        EDIT_QUESTION: (
            "EDIT : trouvé la réponse dans l'appli, merci.",
            "EDIT : c'est un compte perso, pas pro.",
        ),
    },
    first_names=_names(
        "Camille/camille/f, Louis/louis/m, Chloé/chloe/f, Hugo/hugo/m, Léa/lea/f, Thomas/thomas/m, Manon/manon/f, Nathan/nathan/m"
    ),
    last_names=_same(
        "Martin/martin, Bernard/bernard, Dubois/dubois, Lefèvre/lefevre, Moreau/moreau, Laurent/laurent"
    ),
    days=lambda n: f"{n} jours",
    hours=lambda n: f"{n} heures",
    money=lambda a: f"{_grouped(a, ' ')} €",
)

PHRASEBOOKS: Final[Mapping[str, Phrasebook]] = {
    book.language: book for book in (EN, RU, UK, ES, PT, TL, DE, FR)
}
LANGUAGES: Final = tuple(PHRASEBOOKS)
