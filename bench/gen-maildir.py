#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write a deterministic, realistic Maildir of generated mail.

The same seed and count always give the same files, byte for byte and name
for name: nothing depends on the clock, the host, the locale or the order
in which the worker processes finish.  Only the file modification times
are set (to each message's delivery time), which diff ignores.

The mix (threads, dates, senders, charsets, MIME structures, flags, broken
messages) and the marker words a benchmark can search for are described in
bench/README.md.  Everything here is synthetic: names are made up, domains
end in .example and addresses in trace headers are documentation ranges.

How it works: the Planner first decides, with one random generator seeded
from --seed, what every message is (date, author, thread and parent,
Message-ID, list, flags, attachments, quirks).  Then render() turns one
planned message into bytes with a generator of its own, seeded from the seed
and the message, so the messages can be written in any order by several
processes.  A reply quotes its parent by regenerating the parent's text
from the parent's own generator.  Other scripts can import this file and
call setup() to get the plan, e.g. to know which messages are broken on
purpose.
"""

import argparse
import array
import binascii
import calendar
import html
import math
import multiprocessing
import os
import random
import sys
import time
import unicodedata

DEFAULT_COUNT = 100_000
DEFAULT_SEED = 1
DEFAULT_ACCOUNTS = 'reader@example.org'

# The mailbox spans the five years before this instant (UTC); fixed so that
# the output never depends on the day it is generated.
END_TIME = calendar.timegm((2024, 6, 1, 0, 0, 0))
START_TIME = calendar.timegm((2019, 6, 1, 0, 0, 0))
SPAN = END_TIME - START_TIME

PEOPLE = 2000              # size of the pool of correspondents
THREADED_SHARE = 0.40      # messages that belong to a thread
MAX_DEPTH = 15             # deepest reply chain

# Marker words: never produced by the vocabulary, placed deliberately so
# that searches for them have a known, tiny result set.  (word, share of
# messages, where).  Body markers go into the author's own text only, so
# quoting a marked message does not spread the word; subject markers mark
# a whole thread (every reply carries the subject).
MARKERS = (
    ('quarterly', 0.01, 'body'),
    ('zanzibar', 0.0001, 'body'),
    ('ежеквартальный', 0.001, 'body'),
    ('xylophone', 0.001, 'subject'),
)
# Half of the messages with a body marker have it as part of this phrase.
MARKER_PHRASES = {'quarterly': 'quarterly report'}

# Deliberately non-conforming messages, as found in real mailboxes, with
# their share.  Everything else is meant to parse without defects.
QUIRKS = (
    ('no-date', 0.002),        # no Date header at all
    ('bad-date', 0.002),       # a Date header no parser understands
    ('raw-8bit', 0.003),       # unencoded 8-bit Subject and From name
    ('bare-msgid', 0.001),     # Message-ID without angle brackets
    ('bad-charset', 0.001),    # a charset nobody knows, or a wrong one
    ('unterminated', 0.0005),  # multipart without its closing delimiter
    ('bad-base64', 0.0003),    # an attachment with a corrupt base64 line
    ('no-separator', 0.0003),  # a stray non-header line among the headers
)

TEXT, RENDER = 1, 2        # purposes of the per-message random streams


# --------------------------------------------------------------------------
# Vocabulary

# Hand-made word lists, roughly most frequent first: the rank decides the
# weight (Zipf, weight 1/rank).  A long tail of made-up words follows them
# so that the full-text index sees many rare terms.

ENGLISH_WORDS = """
the of and to a in is that it for you i was with on as have be at this not
are but by from or we they an will can would there all if so my what about
do your has more one which their up out just when like get our also no been
some them any me time he she could other than then now only new these into
how its people did should us because work need know think make see well
first two here over very much way even back after use good want where most
those many through may still take look right thing find going same last
long little before while next again another day week year part problem
change code file version release build test patch server mail message list
issue bug fix team meeting report data system user support update review
question thanks please help email today tomorrow document client account
error branch commit merge kernel driver network database query index thread
folder attachment invoice payment order price budget plan schedule deadline
customer product feature design draft proposal contract agenda notes summary
results performance memory disk backup security password login access site
link page browser phone call office holiday conference travel ticket hotel
flight idea reason point case number group company project service source
program function value line output input option default package library
module interface window screen button menu setting profile tool command
script shell process job queue cache log config path directory repository
upstream downstream maintainer contributor developer manager director board
member committee vote decision approval request response reply comment
discussion proposal draft final minor major critical urgent important simple
complex quick slow fast large small old recent current previous following
early late open closed pending done ready available missing broken wrong
correct better worse best possible likely sure clear easy hard free full
empty main local remote public private internal external official personal
monday tuesday wednesday thursday friday weekend morning afternoon evening
tonight soon later yesterday already always never often sometimes usually
maybe perhaps probably actually really quite rather almost enough exactly
send sent receive received forward attach check run try tried start stop
wait add remove move copy keep leave give show tell ask answer read write
wrote call discuss agree suggest expect happen seem mean feel hope guess
understand remember forget prefer consider include require allow support
install upgrade configure compile deploy restart crash fail failed pass
passed works worked working broke fixed merged reverted pushed pulled tagged
benchmark regression profile trace dump stack heap pointer buffer string
array object class method field struct header footer body subject sender
recipient address domain host port protocol socket certificate key token
session cookie request timeout retry limit quota storage volume partition
""".split()

RUSSIAN_WORDS = """
и в не на я что с он как это по но а из к у за так же от все она мы они вы
бы о было ещё только его её если уже или для нет да мне есть при вот когда
может даже там тут надо нужно можно будет чтобы очень сейчас сегодня завтра
вчера потом тоже просто спасибо пожалуйста привет коллеги вопрос ответ
письмо сообщение файл проект версия сборка тест ошибка проблема решение
сервер почта список задача работа время неделя день месяц год встреча отчёт
документ договор счёт оплата заказ клиент пользователь система данные база
запрос индекс папка вложение программа код изменение исправление выпуск
обновление ветка патч ядро драйвер сеть пароль доступ сайт ссылка страница
телефон звонок офис отпуск командировка билет гостиница рейс идея причина
случай номер группа компания сервис источник функция значение строка вывод
параметр пакет библиотека модуль интерфейс окно экран кнопка меню настройка
профиль команда скрипт процесс очередь кэш журнал каталог репозиторий автор
участник разработчик руководитель директор решили согласовать предлагаю
считаю думаю знаю помню хочу могу нужен нужна нужны должен должна сделать
сделал сделали проверить проверил посмотреть посмотрел отправить отправил
получил получили прислать прислал исправить исправил собрать собрал
запустить запустил установить установил обновить обновил удалить удалил
добавить добавил написать написал ответить ответил обсудить обсудили
важно срочно быстро медленно хорошо плохо лучше хуже правильно неправильно
новый старый последний следующий предыдущий текущий основной локальный
общий открытый закрытый готов готово сломано работает работают упал падает
понедельник вторник среда четверг пятница выходные утром вечером днём
скоро позже всегда никогда часто иногда обычно наверное конечно вообще
точно примерно почти довольно слишком совсем ладно хотя поэтому потому
который которая которые этот эта эти тот та те свой своя свои наш наша наши
ваш ваша ваши весь вся мой моя один два три несколько много мало каждый
другой такой какой где куда откуда зачем почему сколько здесь теперь тогда
git linux email ok http api ci бэкап релиз коммит мерж баг фича логи конфиг
""".split()

EN_ONSETS = ('b c d f g h j k l m n p r s t v w z br cl cr dr fl fr gl gr pl '
             'pr sc sk sl sn sp st tr ch sh th').split()
EN_VOWELS = 'a e i o u a e i o ea io ou ai ee oo'.split()
EN_CODAS = ['', '', '', 'n', 'r', 's', 't', 'l', 'm', 'nd', 'st', 'ng', 'ck',
            'x', 'rt', 'll']
RU_ONSETS = ('б в г д ж з к л м н п р с т ф х ц ч ш щ бр вл гр др кр пр ст '
             'тр').split()
RU_VOWELS = 'а е и о у ы я ю а о е и'.split()
RU_ENDINGS = ['', '', 'ть', 'ый', 'ая', 'ое', 'ов', 'ам', 'ение', 'ость', 'ка',
              'ник', 'ский', 'ать', 'ил', 'ой']

VOCABULARY_SEED = 5322     # the vocabulary does not change with --seed


def made_up_words(rng, onsets, vowels, endings, count, taken):
    """Return count new pronounceable words not in taken (and add them)."""
    words = []
    while len(words) < count:
        syllables = rng.choice((1, 2, 2, 2, 3, 3, 4))
        word = ''.join(rng.choice(onsets) + rng.choice(vowels)
                       for _ in range(syllables)) + rng.choice(endings)
        if len(word) >= 3 and word not in taken:
            taken.add(word)
            words.append(word)
    return words


def technical_tokens(rng, stems, count, taken):
    """Identifiers, file names, versions and numbers as found in tech mail."""
    tokens = []
    while len(tokens) < count:
        kind = rng.randrange(6)
        if kind == 0:
            token = f'{rng.choice(stems)}_{rng.choice(stems)}'
        elif kind == 1:
            token = f'{rng.choice(stems)}.{rng.choice(("c", "h", "py", "rs", "xml", "json", "conf"))}'
        elif kind == 2:
            token = f'{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(20)}'
        elif kind == 3:
            token = f'0x{rng.getrandbits(rng.choice((16, 32))):x}'
        elif kind == 4:
            token = str(rng.randrange(10, 100000))
        else:
            token = f'{rng.choice(stems)}{rng.randrange(2, 64)}'
        if token not in taken:
            taken.add(token)
            tokens.append(token)
    return tokens


class WordSampler:
    """Draws words with Zipf-like frequencies (weight 1/rank) quickly.

    The distribution is laid out once in a table of 2**20 slots, each word
    owning a share of slots proportional to its weight; drawing a word is
    then one random 32-bit number and one index, with no bisection."""

    BITS = 20

    def __init__(self, words):
        size = 1 << self.BITS
        weights = [1.0 / rank for rank in range(1, len(words) + 1)]
        total = math.fsum(weights)
        table = []
        acc = 0.0
        for word, weight in zip(words, weights):
            acc += weight
            end = min(size, round(acc / total * size))
            table.extend([word] * (end - len(table)))
        table.extend([words[-1]] * (size - len(table)))
        self.table = table

    def sample(self, rng, k):
        numbers = array.array('I', rng.randbytes(4 * k))
        if sys.byteorder == 'big':
            numbers.byteswap()
        shift = 32 - self.BITS
        table = self.table
        return [table[n >> shift] for n in numbers]


class Vocabulary:
    """Samplers for body text and for subjects, per language."""

    def __init__(self):
        rng = random.Random(VOCABULARY_SEED)
        markers = [word for word, _, _ in MARKERS]
        taken = set(ENGLISH_WORDS) | set(RUSSIAN_WORDS) | set(markers)
        en_tail = made_up_words(rng, EN_ONSETS, EN_VOWELS, EN_CODAS, 18000, taken)
        tech = technical_tokens(rng, ENGLISH_WORDS[200:] + en_tail[:300], 4000, taken)
        ru_tail = made_up_words(rng, RU_ONSETS, RU_VOWELS, RU_ENDINGS, 15000, taken)
        # Interleave the tails so that made-up words and tokens share ranks.
        en_rest = en_tail + tech
        rng.shuffle(en_rest)
        ru_rest = ru_tail + tech[:1000]
        rng.shuffle(ru_rest)
        english = ENGLISH_WORDS + en_rest
        russian = RUSSIAN_WORDS + ru_rest
        self.text = {'en': WordSampler(english), 'ru': WordSampler(russian)}
        # Subjects skip the most frequent function words.
        self.subject = {'en': WordSampler(english[60:]), 'ru': WordSampler(russian[60:])}


# --------------------------------------------------------------------------
# People, lists and automated senders

LATIN_FIRST = """James Mary John Patricia Robert Jennifer Michael Linda David
Elizabeth William Barbara Richard Susan Joseph Jessica Thomas Sarah Daniel
Karen Matthew Nancy Anthony Lisa Mark Emily Paul Anna Steven Laura Andrew
Julia Peter Maria Lukas Sophie Jan Eva Pierre Claire Hans Ingrid Marco Giulia
Carlos Lucia Oliver Emma Noah Mia Liam Olivia Ethan Hannah Felix Nina Tobias
Sara Henrik Astrid Kevin Rachel Brian Megan""".split()
LATIN_FIRST_ACCENTED = '''José François Zoë Søren Jürgen Björn Renée Andrés Inés
Chloé Łukasz Małgorzata Željko Ágnes'''.split()
LATIN_LAST = """Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson
Taylor Thomas Moore Martin Jackson Thompson White Harris Clark Lewis Walker
Hall Young King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell
Roberts Carter Phillips Evans Turner Parker Collins Edwards Schmidt Schneider
Fischer Weber Wagner Becker Hoffmann Rossi Bianchi Dubois Lefebvre Novak
Kowalski Jansen Nielsen Larsen O'Brien Murphy Kelly Fernandes Costa Silva
Berg Lindqvist Horvat Popescu""".split()
LATIN_LAST_ACCENTED = '''Müller García Martínez Pérez Gonçalves Håkansson Dvořák
Wójcik Sánchez Lindström Ødegaard Özdemir'''.split()

CYRILLIC_MALE = """Александр Алексей Андрей Дмитрий Сергей Иван Михаил Николай
Павел Владимир Евгений Олег Игорь Юрий Константин Артём Максим Роман Виктор
Григорий Борис Денис Кирилл Антон Фёдор""".split()
CYRILLIC_FEMALE = """Анна Мария Елена Ольга Наталья Татьяна Екатерина Ирина
Светлана Юлия Дарья Ксения Людмила Марина Алёна Вера Надежда Софья Полина
Валентина""".split()
CYRILLIC_LAST = """Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов
Новиков Фёдоров Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов
Степанов Николаев Орлов Андреев Макаров Никитин Захаров Зайцев Соловьёв
Борисов Яковлев Григорьев Романов Воробьёв Сергеев Фролов Королёв Гусев
Ильин Поляков Сорокин Виноградов Белов Медведев Тарасов Жуков Комаров
Давыдов Беляев Богданов Сидоров Титов Крылов Калинин Покровский Никольский
Шевченко Бондаренко Коваленко Левин Лаптев Чистяков""".split()

TRANSLIT = dict(zip('абвгдеёжзийклмнопрстуфхцчшщъыьэюя',
                    ['a', 'b', 'v', 'g', 'd', 'e', 'e', 'zh', 'z', 'i', 'y', 'k',
                     'l', 'm', 'n', 'o', 'p', 'r', 's', 't', 'u', 'f', 'kh', 'ts',
                     'ch', 'sh', 'shch', '', 'y', '', 'e', 'yu', 'ya']))
LATIN_FOLD = {'ł': 'l', 'ø': 'o', 'đ': 'd', 'ß': 'ss', "'": ''}

LATIN_DOMAINS = """example.com example.org example.net mail.example post.example
inbox.example acme.example initech.example globex.example northwind.example
contoso.example fabrikam.example umbrella.example hooli.example tyrell.example
aperture.example cs.college.example physics.uni-north.example gtk-project.example
distro.example kernel-dev.example""".split()
LATIN_DOMAIN_WEIGHTS = [9, 6, 6, 14, 8, 8] + [2] * 15
RUSSIAN_DOMAINS = """pochta.example yashchik.example sibir.example kvant.example
volga-tech.example ural-soft.example univer-spb.example neva.example
baikal.example narod.example mail.example example.org""".split()
RUSSIAN_DOMAIN_WEIGHTS = [12, 10, 5, 3, 3, 3, 3, 4, 3, 5, 6, 3]

ORGANISATIONS = ('Acme Corp.', 'Initech', 'Globex', 'Northwind Traders',
                 'GTK Project', 'Distro Foundation', 'Tyrell Research')
TITLES = ('Software Engineer', 'Senior Developer', 'Release Manager',
          'Product Owner', 'System Administrator', 'Research Fellow',
          'Support Engineer', 'Team Lead')
RU_TITLES = ('Ведущий инженер', 'Руководитель отдела', 'Системный администратор',
             'Разработчик', 'Менеджер проекта')

# Correspondents' time zones (minutes east of UTC), per language, weighted.
EN_ZONES = ((0, 5), (60, 6), (120, 4), (-300, 5), (-240, 3), (-420, 3),
            (-480, 3), (330, 2), (540, 1), (600, 1))
RU_ZONES = ((180, 14), (120, 2), (240, 1), (300, 1), (420, 1), (0, 1))
ZONE_NAMES = {0: 'UTC', 60: 'CET', 120: 'EET', 180: 'MSK', 240: 'SAMT',
              300: 'YEKT', 420: 'KRAT', -300: 'EST', -240: 'EDT', -420: 'PDT',
              -480: 'PST', 330: 'IST', 540: 'JST', 600: 'AEST'}
OBSOLETE_ZONES = {0: 'GMT', -300: 'EST', -240: 'EDT', -420: 'PDT', -480: 'PST'}


class Client:
    """How one mail program writes messages.

    date: Date header form; html: chance of a text+HTML alternative;
    cte: transfer encoding of non-ASCII text; post: where the reply goes
    relative to the quote; quote: attribution style; charsets: preferred
    charsets for Cyrillic text."""

    def __init__(self, name, agent, date, html, cte, post, quote, msgid,
                 boundary, order, charsets=('UTF-8',), ascii_charset='UTF-8',
                 quoted_params=False, flowed=False, filenames='2231',
                 reply='Re: ', forward='Fwd: ', subject_charset=None):
        self.name = name
        self.agent = agent
        self.date = date
        self.html = html
        self.cte = cte
        self.post = post
        self.quote = quote
        self.msgid = msgid
        self.boundary = boundary
        self.order = order
        self.charsets = charsets
        self.ascii_charset = ascii_charset
        self.quoted_params = quoted_params
        self.flowed = flowed
        self.filenames = filenames
        self.reply = reply
        self.forward = forward
        self.subject_charset = subject_charset


ORDER_PLAIN = ('Date', 'From', 'To', 'Cc', 'Subject', 'Message-ID',
               'In-Reply-To', 'References', 'MIME-Version', 'Content-Type',
               'Content-Transfer-Encoding', 'User-Agent', 'X-Mailer')
CLIENTS = {c.name: c for c in (
    Client('thunderbird',
           ('User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Thunderbird/102.15.1'),
           'std', 0.2, '8bit', 'bottom', 'thunderbird', 'uuid', 'thunderbird',
           ('Message-ID', 'Date', 'MIME-Version', 'User-Agent', 'Subject',
            'Content-Language', 'To', 'Cc', 'References', 'From',
            'In-Reply-To', 'Content-Type', 'Content-Transfer-Encoding'),
           flowed=True),
    Client('gmail', None, 'std', 1.0, 'quoted-printable', 'top', 'gmail',
           'gmail', 'gmail',
           ('MIME-Version', 'References', 'In-Reply-To', 'From', 'Date',
            'Message-ID', 'Subject', 'To', 'Cc', 'Content-Type'),
           quoted_params=True, filenames='2047'),
    Client('outlook', None, 'std', 1.0, 'quoted-printable', 'outlook',
           'outlook', 'outlook', 'outlook',
           ('From', 'To', 'Cc', 'Subject', 'Thread-Topic', 'Thread-Index',
            'Date', 'Message-ID', 'References', 'In-Reply-To',
            'Accept-Language', 'Content-Language', 'X-MS-Has-Attach',
            'Content-Type', 'Content-Transfer-Encoding', 'MIME-Version'),
           charsets=('koi8-r', 'windows-1251', 'utf-8'), ascii_charset='us-ascii',
           quoted_params=True, filenames='2047', reply='RE: ', forward='FW: '),
    Client('apple', ('X-Mailer', 'Apple Mail (2.3696.120.41.1.1)'), 'std', 0.6,
           'quoted-printable', 'bottom', 'apple', 'uuid-upper', 'apple',
           ('Content-Type', 'MIME-Version', 'Subject', 'From', 'In-Reply-To',
            'Date', 'Cc', 'Content-Transfer-Encoding', 'Message-ID',
            'References', 'To', 'X-Mailer'),
           charsets=('utf-8',), ascii_charset='us-ascii'),
    Client('mutt', ('User-Agent', 'Mutt/2.2.9 (2022-11-12)'), 'std0', 0.0,
           '8bit', 'inline', 'mutt', 'mutt', 'mutt',
           ('Date', 'From', 'To', 'Cc', 'Subject', 'Message-ID', 'References',
            'MIME-Version', 'Content-Type', 'Content-Disposition',
            'Content-Transfer-Encoding', 'In-Reply-To', 'User-Agent'),
           charsets=('utf-8', 'koi8-r'), ascii_charset='us-ascii'),
    Client('pine', ('User-Agent', 'Alpine 2.26 (DEB 649 2022-06-02)'),
           'comment', 0.0, 'QUOTED-PRINTABLE', 'inline', 'pine', 'pine', 'pine',
           ORDER_PLAIN, charsets=('UTF-8', 'KOI8-R'), ascii_charset='US-ASCII'),
    Client('eudora', ('X-Mailer', 'QUALCOMM Windows Eudora Version 7.1.0.9'),
           'obsolete', 0.05, '8bit', 'bottom', 'eudora', 'old', 'old',
           ORDER_PLAIN, charsets=('koi8-r', 'iso-8859-5'),
           ascii_charset='us-ascii', quoted_params=True,
           subject_charset='koi8-r'),
    Client('thebat', ('X-Mailer', 'The Bat! (v9.4.4) Professional'), 'std', 0.1,
           '8bit', 'bottom', 'thebat', 'thebat', 'thebat', ORDER_PLAIN,
           charsets=('windows-1251', 'koi8-r'), ascii_charset='us-ascii',
           quoted_params=True, filenames='2047', subject_charset='windows-1251'),
    Client('webmail', ('User-Agent', 'Roundcube Webmail/1.6.6'), 'std0', 0.8,
           'base64', 'top', 'webmail', 'md5', 'webmail', ORDER_PLAIN,
           quoted_params=True),
    Client('robot', None, 'utc', 0.9, 'quoted-printable', 'top', 'gmail',
           'robot', 'robot', ORDER_PLAIN, quoted_params=True, filenames='2047'),
)}

EN_CLIENTS = (('thunderbird', 18), ('gmail', 30), ('outlook', 20), ('apple', 12),
              ('mutt', 8), ('pine', 3), ('eudora', 3), ('webmail', 6))
RU_CLIENTS = (('thebat', 16), ('webmail', 24), ('gmail', 20), ('thunderbird', 15),
              ('outlook', 12), ('apple', 5), ('mutt', 4), ('eudora', 4))

# Mailing lists: (name, description, host, language, subject tag?, footer?)
LISTS = (
    ('devel', 'GTK Project development', 'lists.gtk-project.example', 'en', True, True),
    ('users', 'GTK Project users', 'lists.gtk-project.example', 'en', True, True),
    ('announce', 'Distro announcements', 'lists.distro.example', 'en', False, False),
    ('security', 'Distro security advisories', 'lists.distro.example', 'en', True, False),
    ('kernel-janitors', 'Kernel janitors', 'vger.kernel-dev.example', 'en', False, False),
    ('netdev', 'Networking development', 'vger.kernel-dev.example', 'en', False, False),
    ('sqlite-users', 'Embedded database users', 'lists.db.example', 'en', False, True),
    ('staff', 'Acme staff', 'lists.acme.example', 'en', True, False),
    ('ru-linux', 'Русскоязычный список Linux', 'lists.linux-ru.example', 'ru', True, True),
    ('ru-dev', 'Разработчики', 'lists.linux-ru.example', 'ru', True, False),
    ('kvant-all', 'Сотрудники Квант', 'lists.kvant.example', 'ru', True, False),
    ('hiking', 'Hiking club', 'groups.example.net', 'en', True, True),
)

# Automated senders: (display name or None, address, language, kind).
ROBOTS = (
    ('GitLab', 'gitlab@git.acme.example', 'en', 'ci'),
    (None, 'bugzilla-daemon@bugs.gtk-project.example', 'en', 'bug'),
    ('Jira', 'jira@issues.contoso.example', 'en', 'jira'),
    ('Northwind Weekly', 'digest@news.northwind.example', 'en', 'news'),
    ('Интернет-магазин «Полка»', 'noreply@polka-shop.example', 'ru', 'shop'),
    ('Банк «Вклад»', 'info@vklad-bank.example', 'ru', 'bank'),
    ('Cron Daemon', 'root@build1.acme.example', 'en', 'cron'),
    ('Calendar', 'calendar-notification@calendar.example', 'en', 'calendar'),
    ('Дайджест «Код»', 'digest@kod-news.example', 'ru', 'news'),
)


class Person:
    """A correspondent: name, address and habits (client, zone, name form)."""

    __slots__ = ('name', 'first', 'initials', 'addr', 'lang', 'client', 'tz',
                 'form', 'signature', 'robot', 'mailbox')

    def __init__(self, name, first, addr, lang, client, tz, form,
                 signature=None, robot=None):
        self.name = name
        self.first = first
        self.initials = ''.join(part[0] for part in name.split()[:2]).upper() if name else 'X'
        self.addr = addr
        self.lang = lang
        self.client = client
        self.tz = tz
        self.form = form
        self.signature = signature
        self.robot = robot
        self.mailbox = format_mailbox(name, addr, form)


def weighted(rng, pairs):
    """Pick the first element of one of the (value, weight) pairs."""
    values = [value for value, _ in pairs]
    weights = [weight for _, weight in pairs]
    return rng.choices(values, weights)[0]


def ascii_fold(text):
    """Lower-case ASCII form of a name for an address local part."""
    out = []
    for ch in text.lower():
        if ch in TRANSLIT:
            out.append(TRANSLIT[ch])
        elif ch in LATIN_FOLD:
            out.append(LATIN_FOLD[ch])
        else:
            out.append(unicodedata.normalize('NFKD', ch).encode('ascii', 'ignore').decode())
    return ''.join(out)


def make_people(rng, count):
    """The pool of correspondents: about 60 % Latin, 40 % Cyrillic names."""
    people = []
    taken = set()
    for _ in range(count):
        if rng.random() < 0.62:
            first = rng.choice(LATIN_FIRST_ACCENTED if rng.random() < 0.08 else LATIN_FIRST)
            last = rng.choice(LATIN_LAST_ACCENTED if rng.random() < 0.1 else LATIN_LAST)
            lang = 'ru' if rng.random() < 0.05 else 'en'
            domain = rng.choices(LATIN_DOMAINS, LATIN_DOMAIN_WEIGHTS)[0]
            name = f'{first} {last}'
            if name.isascii():
                form = weighted(rng, (('plain', 70), ('quoted', 12), ('comma', 6), ('bare', 12)))
            else:
                latin1 = name.encode('latin-1', 'replace').decode('latin-1') == name
                form = weighted(rng, (('q-utf8', 50), ('b-utf8', 30),
                                      ('q-latin1' if latin1 else 'q-utf8', 20)))
        else:
            female = rng.random() < 0.45
            first = rng.choice(CYRILLIC_FEMALE if female else CYRILLIC_MALE)
            last = rng.choice(CYRILLIC_LAST)
            if female:
                last = feminine(last)
            lang = 'en' if rng.random() < 0.2 else 'ru'
            domain = rng.choices(RUSSIAN_DOMAINS, RUSSIAN_DOMAIN_WEIGHTS)[0]
            name = f'{last} {first}' if rng.random() < 0.15 else f'{first} {last}'
            form = weighted(rng, (('b-utf8', 55), ('q-utf8', 10), ('b-koi8', 15),
                                  ('b-1251', 10), ('bare', 10)))
        tf, tl = ascii_fold(first).replace(' ', ''), ascii_fold(last).replace(' ', '')
        local = weighted(rng, ((f'{tf}.{tl}', 40), (f'{tf[0]}{tl}', 20),
                               (f'{tf}', 10), (f'{tf}_{tl}', 8),
                               (f'{tl}{rng.randrange(1, 99)}', 12), (f'{tf}{tl[0]}', 10)))
        addr = f'{local}@{domain}'
        while addr in taken:
            addr = f'{local}{rng.randrange(100, 9999)}@{domain}'
        taken.add(addr)
        client = weighted(rng, RU_CLIENTS if lang == 'ru' else EN_CLIENTS)
        tz = weighted(rng, RU_ZONES if domain in RUSSIAN_DOMAINS and lang == 'ru' else EN_ZONES)
        signature = None
        if rng.random() < 0.4:
            title = rng.choice(RU_TITLES if lang == 'ru' else TITLES)
            signature = [name, f'{title}, {rng.choice(ORGANISATIONS)}']
            if rng.random() < 0.3:
                signature.append(f'tel. +{rng.randrange(1, 99)} {rng.randrange(100, 999)} '
                                 f'{rng.randrange(100, 999)} {rng.randrange(1000, 9999)}')
        people.append(Person(name, first, addr, lang, client, tz, form, signature))
    return people


def feminine(last):
    """The feminine form of a Russian surname."""
    if last.endswith(('ов', 'ёв', 'ев', 'ин')):
        return last + 'а'
    if last.endswith('ский'):
        return last[:-2] + 'ая'
    return last


def make_robots():
    return [Person(name, None, addr, lang, 'robot', 0,
                   'plain' if name and name.isascii() else ('b-utf8' if name else 'bare'),
                   robot=kind)
            for name, addr, lang, kind in ROBOTS]


def make_owner(addr):
    local = addr.split('@', 1)[0]
    name = ' '.join(part.capitalize() for part in local.replace('_', '.').split('.') if part)
    return Person(name or 'Reader', name.split()[0] if name else 'Reader', addr, 'en',
                  'thunderbird', 180, 'plain', signature=[name])


class MailingList:
    """A Mailman list, or (newsletter=True) a bulk sender's list headers."""

    __slots__ = ('name', 'description', 'host', 'lang', 'tag', 'footer', 'address', 'id',
                 'newsletter')

    def __init__(self, name, description, host, lang, tag, footer, newsletter=False):
        self.newsletter = newsletter
        self.name = name
        self.description = description
        self.host = host
        self.lang = lang
        self.tag = f'[{name}] ' if tag else ''
        self.footer = footer
        self.address = f'{name}@{host}'
        self.id = f'{name}.{host}'


# --------------------------------------------------------------------------
# The plan

class Thread:
    __slots__ = ('subject', 'lang', 'lst', 'people', 'marked')

    def __init__(self, subject, lang, lst, people, marked):
        self.subject = subject
        self.lang = lang
        self.lst = lst
        self.people = people
        self.marked = marked


class Msg:
    """One planned message (or the missing root of a thread, if not emitted)."""

    __slots__ = ('pid', 'fidx', 'time', 'delivered', 'sender', 'lang', 'account',
                 'kind', 'lst', 'thread', 'parent', 'msgid', 'refs', 'depth',
                 'children', 'ref_style', 'nwords', 'flags', 'folder',
                 'quirk', 'markers', 'attach', 'inline', 'forward', 'copy_of',
                 'fwd_reply')

    def __init__(self, pid, time_, sender, lang, kind):
        self.pid = pid
        self.fidx = None
        self.time = time_
        self.delivered = time_
        self.sender = sender
        self.lang = lang
        self.account = None
        self.kind = kind            # 'direct', 'list', 'robot' or 'own'
        self.lst = None
        self.thread = None
        self.parent = None
        self.msgid = None
        self.refs = ()
        self.depth = 0
        self.children = 0
        self.ref_style = 'full'
        self.nwords = 0
        self.flags = ''
        self.folder = 'cur'
        self.quirk = None
        self.markers = ()
        self.attach = 0
        self.inline = False
        self.forward = False
        self.copy_of = None
        self.fwd_reply = False


ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
HEX = '0123456789abcdef'


def rand_chars(rng, alphabet, n):
    return ''.join(rng.choices(alphabet, k=n))


def rand_uuid(rng):
    h = '%032x' % rng.getrandbits(128)
    return f'{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}'


def new_msgid(rng, person, t):
    """A Message-ID in the style of the sender's client."""
    domain = person.addr.split('@', 1)[1]
    style = CLIENTS[person.client].msgid
    g = time.gmtime(t)
    if style == 'uuid':
        return f'<{rand_uuid(rng)}@{domain}>'
    if style == 'uuid-upper':
        return f'<{rand_uuid(rng).upper()}@{domain}>'
    if style == 'gmail':
        return f'<CA{rand_chars(rng, ALNUM + "+_-", 46)}@mail.gmail.example>'
    if style == 'outlook':
        upper = ALNUM[:26] + ALNUM[52:]
        return (f'<{rand_chars(rng, upper, 40)}@{rand_chars(rng, upper, 8)}'
                f'.EURP{rng.randrange(100, 300)}.PROD.OUTLOOK.EXAMPLE>')
    if style == 'mutt':
        return (f'<{g.tm_year}{g.tm_mon:02d}{g.tm_mday:02d}{g.tm_hour:02d}{g.tm_min:02d}'
                f'{g.tm_sec:02d}.GA{rng.randrange(1000, 99999)}@{rand_chars(rng, ALNUM[26:52], 6)}.{domain}>')
    if style == 'pine':
        return (f'<alpine.DEB.2.26.{g.tm_year % 100:02d}{g.tm_mon:02d}{g.tm_mday:02d}'
                f'{g.tm_hour:02d}{g.tm_min:02d}.{rng.randrange(10000, 99999)}@{domain}>')
    if style == 'thebat':
        return f'<{rng.randrange(10**8, 10**9)}.{t}@{domain}>'
    if style == 'md5':
        return f'<{rand_chars(rng, HEX, 32)}@{domain}>'
    if style == 'robot':
        return f'<{t}.{rng.randrange(10**6)}.{rand_chars(rng, HEX, 12)}@{domain}>'
    return f'<{g.tm_year}{g.tm_mon:02d}{g.tm_mday:02d}.{rand_chars(rng, HEX, 10)}@{domain}>'


def growth_time(rng, lo=0.0, hi=1.0):
    """A time in [START, END) whose density grows linearly (x2.5 over the span):
    someone's mail volume grows over the years."""
    u = lo + (hi - lo) * rng.random()
    x = (math.sqrt(1 + 5.25 * u) - 1) / 1.5    # inverse of (x + 0.75 x^2) / 1.75
    return START_TIME + int(x * SPAN)


HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10, 9, 10, 10, 10, 9, 8, 6, 5, 4, 3, 2, 1)


def working_hours(rng, t, tz):
    """Move t within its local day to an hour people write mail at."""
    local = t + tz * 60
    midnight = local - local % 86400
    if time.gmtime(midnight).tm_wday >= 5 and rng.random() < 0.6:
        midnight -= 86400 * rng.randint(1, 2)       # fewer messages on weekends
    hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
    moved = midnight - tz * 60 + hour * 3600 + rng.randrange(3600)
    return max(START_TIME, min(END_TIME - 3600, moved))


class Planner:
    """Decides what every message is, with one random generator."""

    def __init__(self, count, seed, accounts):
        self.rng = rng = random.Random(seed)
        self.count = count
        self.people = make_people(rng, PEOPLE)
        # Some people write far more than others.
        self.activity = list(_accumulate(1.0 / (rank ** 0.8) for rank in range(1, PEOPLE + 1)))
        self.robots = make_robots()
        self.owners = [make_owner(addr) for addr in accounts]
        self.lists = [MailingList(*spec) for spec in LISTS]
        self.records = []           # emitted messages, in plan order
        self.next_pid = 0

    def person(self):
        return self.rng.choices(self.people, cum_weights=self.activity)[0]

    def account(self):
        if len(self.owners) == 1 or self.rng.random() < 0.7:
            return self.owners[0]
        return self.rng.choice(self.owners[1:])

    def new_record(self, t, sender, lang, kind, emit=True):
        m = Msg(self.next_pid, t, sender, lang, kind)
        self.next_pid += 1
        m.msgid = new_msgid(self.rng, sender, t)
        m.nwords = max(5, min(3000, int(self.rng.lognormvariate(4.4, 0.8))))
        m.account = self.account()
        if emit:
            self.records.append(m)
        return m

    def subject(self, lang):
        """A subject line's words, most 2-9 words, a few very long."""
        rng = self.rng
        n = rng.randint(2, 9) if rng.random() < 0.96 else rng.randint(14, 30)
        words = VOCAB.subject[lang].sample(rng, n)
        words[0] = words[0][:1].upper() + words[0][1:]
        return ' '.join(words)

    def thread_size(self):
        r = self.rng.random()
        if r < 0.35:
            return 2
        if r < 0.55:
            return 3
        if r < 0.77:
            return self.rng.randint(4, 6)
        if r < 0.92:
            return self.rng.randint(7, 15)
        if r < 0.98:
            return self.rng.randint(16, 40)
        return self.rng.randint(41, 120)

    def add_thread(self, size):
        rng = self.rng
        starter = self.person()
        lst = None
        if rng.random() < 0.6:
            candidates = [l for l in self.lists if l.lang == starter.lang] or self.lists
            lst = rng.choice(candidates)
        lang = starter.lang if lst is None else lst.lang
        people = [starter] + [self.person() for _ in range(rng.randint(1, 10 if lst else 4))]
        marked = rng.random() < marker_share('subject')
        thread = Thread(self.subject(lang), lang, lst, people, marked)
        spread = rng.random() < 0.05
        start = growth_time(rng, 0.0, 0.5 if spread else 0.995)
        start = working_hours(rng, start, starter.tz)
        missing_root = rng.random() < 0.06
        root = self.new_record(start, starter, lang, 'list' if lst else 'direct',
                               emit=not missing_root)
        root.thread = thread
        root.lst = lst
        nodes = [root]
        if spread:
            times = sorted(rng.randrange(start + 60, END_TIME) for _ in range(size - 1))
        else:
            times, t = [], start
            for _ in range(size - 1):
                t += int(min(20 * 86400, max(30, rng.lognormvariate(math.log(3600), 1.5))))
                times.append(t)
        for t in times:
            if t >= END_TIME:
                break
            parent = nodes[-1] if rng.random() < 0.6 else rng.choice(nodes)
            while parent.depth >= MAX_DEPTH:
                parent = parent.parent
            own = rng.random() < (0.03 if lst else 0.15)
            if own:
                sender = parent.account if parent.kind != 'own' else self.account()
            else:
                choices = [p for p in people if p is not parent.sender] or people
                sender = rng.choice(choices)
            m = self.new_record(t, sender, lang, 'own' if own else ('list' if lst else 'direct'))
            if own:
                m.account = sender
            else:
                m.account = parent.account
            m.thread = thread
            m.lst = lst
            m.parent = parent
            m.depth = parent.depth + 1
            m.refs = parent.refs + (parent.msgid,)
            m.ref_style = weighted(rng, (('full', 85), ('irt-only', 4), ('truncated', 4),
                                         ('junk', 3), ('refs-only', 2), ('mh', 2)))
            m.fwd_reply = rng.random() < 0.03
            parent.children += 1
            nodes.append(m)
        return len(nodes) - (1 if missing_root else 0)

    def add_single(self):
        rng = self.rng
        r = rng.random()
        t = growth_time(rng)
        if r < 0.2:
            robot = rng.choice(self.robots)
            m = self.new_record(t, robot, robot.lang, 'robot')
            m.nwords = rng.randint(20, 150)
            m.thread = Thread(self.subject(robot.lang), robot.lang, None, [robot], False)
            if robot.robot == 'news':
                m.lst = MailingList(robot.addr.split('@')[0], robot.name,
                                    robot.addr.split('@')[1], robot.lang, False, False,
                                    newsletter=True)
            return m
        sender = self.person()
        lst = None
        if r < 0.4:
            candidates = [l for l in self.lists if l.lang == sender.lang] or self.lists
            lst = rng.choice(candidates)
        lang = lst.lang if lst else sender.lang
        m = self.new_record(working_hours(rng, t, sender.tz), sender, lang,
                            'list' if lst else 'direct')
        m.lst = lst
        marked = rng.random() < marker_share('subject')
        subject = '' if rng.random() < 0.006 else self.subject(lang)
        m.thread = Thread(subject, lang, lst, [sender], marked)
        if rng.random() < 0.04:
            m.forward = True
        return m

    def plan(self):
        rng = self.rng
        threaded_target = int(self.count * THREADED_SHARE)
        threaded = 0
        while threaded < threaded_target:
            size = min(self.thread_size(), threaded_target - threaded + 1)
            threaded += self.add_thread(max(2, size))
        del self.records[self.count:]
        while len(self.records) < self.count:
            self.add_single()
        self.finish()
        return self.records

    def finish(self):
        """Per-message decisions that need the whole plan: delivery, flags,
        duplicates, quirks, markers, attachments and the file order."""
        rng = self.rng
        records = self.records
        for m in records:
            m.delivered = m.time + int(min(6 * 3600, rng.lognormvariate(math.log(20), 1.3)))
            m.attach = 0
            if rng.random() < (0.05 if m.kind == 'robot' else 0.105):
                m.attach = 1 if rng.random() < 0.75 else rng.randint(2, 3)
            m.inline = rng.random() < 0.03
            m.markers = tuple(word for word, share, where in MARKERS
                              if where == 'body' and rng.random() < share)
        # Replies written by the mailbox owner mark their parent answered.
        answered = set()
        for m in records:
            if m.kind == 'own' and m.parent is not None:
                answered.add(m.parent.pid)
        for m in records:
            self.flag(m, m.pid in answered)
        # Leaves (messages nobody replies to) can lose or share a Message-ID
        # without breaking any thread.
        leaves = [m for m in records if m.children == 0]
        picks = rng.sample(leaves, min(len(leaves), max(1, len(records) // 250)))
        third = len(picks) // 3
        for m in picks[:third]:                 # no Message-ID at all
            m.msgid = None
        for m in picks[third:2 * third]:        # the same ID as another message
            m.msgid = rng.choice(records).msgid
        for m in picks[2 * third:]:             # delivered twice
            original = rng.choice(records)
            if original is not m and original.copy_of is None:
                m.copy_of = original
                m.msgid = original.msgid
                m.time = original.time
                m.delivered = original.delivered + rng.randrange(1, 600)
        for name, share in QUIRKS:
            for m in rng.sample(records, min(len(records), max(1, round(len(records) * share)))):
                if m.quirk is None and m.copy_of is None and not (
                        name == 'bare-msgid' and m.children):
                    m.quirk = name
        for m in records:                       # a copy is as broken as its original
            original = m.copy_of
            while original is not None:
                m.quirk = original.quirk
                original = original.copy_of
        order = list(range(len(records)))
        rng.shuffle(order)
        for m, fidx in zip(records, order):
            m.fidx = fidx

    def flag(self, m, answered):
        rng = self.rng
        if m.kind == 'own':
            unseen = 0.0
        elif m.kind == 'list':
            unseen = 0.30           # nobody reads every list message
        elif m.kind == 'robot':
            unseen = 0.30
        else:
            unseen = 0.08
        recent = m.delivered > END_TIME - 21 * 86400
        if recent and m.kind != 'own':
            unseen = 0.6
        if rng.random() < unseen:
            if recent and rng.random() < 0.7:
                m.folder = 'new'            # never looked at: no info part
                return
            flags = ''
        else:
            flags = 'S'
        if answered or (flags and m.kind == 'direct' and rng.random() < 0.08):
            flags += 'R'
        if rng.random() < (0.03 if m.kind == 'direct' else 0.006):
            flags += 'F'
        if flags and m.kind != 'own' and rng.random() < 0.01:
            flags += 'P'
        m.flags = ''.join(sorted(flags))


def _accumulate(values):
    total = 0.0
    for v in values:
        total += v
        yield total


def marker_share(where):
    return sum(share for _, share, w in MARKERS if w == where)


# --------------------------------------------------------------------------
# Header helpers

WEEKDAYS = ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')
WEEKDAYS_LONG = ('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday',
                 'Saturday', 'Sunday')
MONTHS = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep',
          'Oct', 'Nov', 'Dec')
MONTHS_LONG = ('January', 'February', 'March', 'April', 'May', 'June', 'July',
               'August', 'September', 'October', 'November', 'December')
RU_MONTHS_GEN = ('января', 'февраля', 'марта', 'апреля', 'мая', 'июня', 'июля',
                 'августа', 'сентября', 'октября', 'ноября', 'декабря')
RU_WEEKDAYS = ('пн', 'вт', 'ср', 'чт', 'пт', 'сб', 'вс')
BROKEN_DATES = ('yesterday', '{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z',
                '{wd}, 32 {mon} {y} {h:02d}:{mi:02d}:{s:02d} +0000',
                '{wd}, {d} {mon} {y} 25:{mi:02d}:{s:02d} +0000',
                '{d}.{mo:02d}.{y} {h:02d}:{mi:02d}', 'Date: {wd} {mon} {d}',
                '{wd}, {d} {mon} {y} {h:02d}:{mi:02d}:{s:02d} +2500')


def zone(tz):
    sign = '+' if tz >= 0 else '-'
    hours, minutes = divmod(abs(tz), 60)
    return f'{sign}{hours:02d}{minutes:02d}'


def format_date(rng, t, tz, form):
    """The Date header value for UTC time t in zone tz, in one of the forms
    real clients write (RFC 5322, with comments, and obsolete ones)."""
    if form == 'utc':
        tz = 0
    g = time.gmtime(t + tz * 60)
    wd, mon = WEEKDAYS[g.tm_wday], MONTHS[g.tm_mon - 1]
    clock = f'{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d}'
    if form == 'std':
        return f'{wd}, {g.tm_mday} {mon} {g.tm_year} {clock} {zone(tz)}'
    if form == 'std0':
        return f'{wd}, {g.tm_mday:02d} {mon} {g.tm_year} {clock} {zone(tz)}'
    if form == 'comment':
        name = ZONE_NAMES.get(tz)
        return f'{wd}, {g.tm_mday} {mon} {g.tm_year} {clock} {zone(tz)}' + (f' ({name})' if name else '')
    if form == 'utc':
        return (f'{wd}, {g.tm_mday:02d} {mon} {g.tm_year} {clock} '
                + rng.choice(('+0000 (UTC)', '+0000 (UTC)', '+0000', '-0000')))
    # Obsolete forms: zone names, two-digit years, no weekday.
    if tz not in OBSOLETE_ZONES:
        return format_date(rng, t, 0, 'obsolete')
    name = OBSOLETE_ZONES[tz]
    if tz == 0 and rng.random() < 0.3:
        name = 'UT'
    variant = rng.randrange(3)
    if variant == 0:
        return f'{wd}, {g.tm_mday:02d} {mon} {g.tm_year % 100:02d} {clock} {name}'
    if variant == 1:
        return f'{g.tm_mday} {mon} {g.tm_year} {clock} {name}'
    return f'{wd}, {g.tm_mday:2d} {mon} {g.tm_year} {clock} {name}'


def broken_date(rng, t):
    g = time.gmtime(t)
    return rng.choice(BROKEN_DATES).format(
        y=g.tm_year, mo=g.tm_mon, d=g.tm_mday, h=g.tm_hour, mi=g.tm_min,
        s=g.tm_sec, wd=WEEKDAYS[g.tm_wday], mon=MONTHS[g.tm_mon - 1])


Q_SAFE = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/')


def q_encode(data):
    return ''.join(chr(b) if b in Q_SAFE else ('_' if b == 32 else '=%02X' % b)
                   for b in data)


def encoded_words(text, charset, mode, first_room=75):
    """RFC 2047 encoded words for text, each at most 75 characters (the first
    at most first_room), never splitting a character, joined by folding
    white space."""
    prefix = f'=?{charset}?{mode}?'
    words = []
    chunk = b''
    q_length = 0                # length of chunk once Q-encoded
    room = max(first_room, len(prefix) + 12)
    for ch in text:
        raw = ch.encode(charset)
        raw_q = len(q_encode(raw)) if mode == 'Q' else 0
        if mode == 'B':
            length = len(prefix) + 4 * ((len(chunk) + len(raw) + 2) // 3) + 2
        else:
            length = len(prefix) + q_length + raw_q + 2
        if length > room and chunk:
            words.append(chunk)
            chunk, q_length = raw, raw_q
            room = 75
        else:
            chunk += raw
            q_length += raw_q
    if chunk:
        words.append(chunk)
    if mode == 'B':
        parts = [prefix + binascii.b2a_base64(w, newline=False).decode() + '?=' for w in words]
    else:
        parts = [prefix + q_encode(w) + '?=' for w in words]
    return '\n '.join(parts)


def header_text(text, charset, mode, room=75):
    """text as is if it is ASCII, else as encoded words in charset."""
    if text.isascii():
        return text
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        charset = 'UTF-8'
    return encoded_words(text, charset, mode, room)


def fold_words(name, text):
    """An ASCII header 'name: text', folded at spaces before column 78."""
    line = f'{name}:'
    lines = []
    for word in text.split(' '):
        if len(line) + 1 + len(word) > 78 and len(line) > len(name) + 2:
            lines.append(line)
            line = ' ' + word
        else:
            line += ' ' + word
    lines.append(line)
    return '\n'.join(lines)


def fold_list(name, items, sep=','):
    """'name: a, b, c' with the items folded onto continuation lines."""
    line = f'{name}:'
    lines = []
    for i, item in enumerate(items):
        piece = item + (sep if i < len(items) - 1 else '')
        if len(line) + 1 + len(piece.split('\n')[0]) > 78 and i > 0:
            lines.append(line)
            line = ' ' + piece
        else:
            line += ' ' + piece
    lines.append(line)
    return '\n'.join(lines)


def format_mailbox(name, addr, form):
    """name-addr or addr-spec as the person's mail program writes it."""
    if form == 'bare' or not name:
        return addr
    if form == 'plain':
        return f'{name} <{addr}>'
    if form == 'quoted':
        return f'"{name}" <{addr}>'
    if form == 'comma':
        first, last = name.split(' ', 1)
        return f'"{last}, {first}" <{addr}>'
    charset, mode = {'b-utf8': ('UTF-8', 'B'), 'q-utf8': ('utf-8', 'Q'),
                     'b-koi8': ('KOI8-R', 'B'), 'b-1251': ('windows-1251', 'B'),
                     'q-latin1': ('iso-8859-1', 'Q')}[form]
    return f'{header_text(name, charset, mode)} <{addr}>'


def rand_b64(rng, nbytes):
    return binascii.b2a_base64(rng.randbytes(nbytes), newline=False).decode()


def new_boundary(rng, style):
    if style == 'thunderbird':
        return '------------' + rand_chars(rng, ALNUM, 24)
    if style == 'gmail':
        return '000000000000' + rand_chars(rng, HEX, 16)
    if style == 'outlook':
        return '_000_' + rand_chars(rng, ALNUM[:26] + ALNUM[52:], 40) + '_'
    if style == 'apple':
        return 'Apple-Mail=_' + rand_uuid(rng).upper()
    if style == 'mutt':
        return rand_chars(rng, ALNUM, 16)
    if style == 'pine':
        return f'8323329-{rng.randrange(10**9)}-{rng.randrange(10**9)}=:{rng.randrange(10**5)}'
    if style == 'thebat':
        return '----------' + rand_chars(rng, HEX.upper(), 12)
    if style == 'webmail':
        return '=_' + rand_chars(rng, HEX, 32)
    if style == 'robot':
        return f'----=_Part_{rng.randrange(10**6)}_{rng.randrange(10**9)}.{rng.randrange(10**12, 10**13)}'
    return '=_' + rand_chars(rng, ALNUM, 20)


# --------------------------------------------------------------------------
# Body text

SENTENCE_ENDS = ('.', '.', '.', '.', '.', '?', '!', '...')


def own_paragraphs(m, limit=0):
    """The text m's author wrote, as paragraphs of sentences.

    It depends only on m, so a reply that quotes m regenerates exactly what m
    says; with limit, only the first paragraphs are produced."""
    rng = random.Random(stream_seed(m.pid, TEXT))
    words = VOCAB.text[m.lang].sample(rng, m.nwords)
    paragraphs = []
    pos, total = 0, len(words)
    random_ = rng.random
    while pos < total:
        sentences = []
        for _ in range(1 + int(random_() * 5)):
            if pos >= total:
                break
            n = 4 + int(random_() * 13)         # 4 to 16 words
            s = words[pos:pos + n]
            pos += n
            if len(s) > 5 and rng.random() < 0.3:
                i = rng.randrange(1, len(s) - 2)
                s[i] += ','
            s[0] = s[0][:1].upper() + s[0][1:]
            sentences.append(' '.join(s) + rng.choice(SENTENCE_ENDS))
        paragraphs.append(' '.join(sentences))
        if limit and len(paragraphs) >= limit:
            break
    return paragraphs


def wrap(text, width=72):
    """Greedy word wrap at spaces; a word longer than width stays whole."""
    lines = []
    start, end = 0, len(text)
    while end - start > width:
        cut = text.rfind(' ', start, start + width + 1)
        if cut <= start:
            cut = text.find(' ', start + width + 1)
            if cut < 0:
                break
        lines.append(text[start:cut])
        start = cut + 1
    lines.append(text[start:])
    return lines


def insert_word(rng, paragraphs, word):
    i = rng.randrange(len(paragraphs))
    words = paragraphs[i].split(' ')
    words.insert(rng.randrange(1, len(words) + 1), word)
    paragraphs[i] = ' '.join(words)


class Body:
    """What a message says, before it is laid out as plain text or HTML."""

    __slots__ = ('greeting', 'paragraphs', 'signature', 'attribution', 'quoted',
                 'prefix', 'post', 'footer', 'outlook_header', '_lines')

    def __init__(self):
        self.greeting = None
        self.paragraphs = []
        self.signature = None
        self.attribution = None     # "On ..., X wrote:"
        self.quoted = []            # (level, line)
        self.prefix = '> '
        self.post = 'bottom'
        self.footer = None
        self.outlook_header = None
        self._lines = None

    def lines(self):
        """The paragraphs wrapped for display, one list of lines each."""
        if self._lines is None:
            self._lines = [[line for chunk in paragraph.split('\n') for line in wrap(chunk)]
                           for paragraph in self.paragraphs]
        return self._lines


def attribution(rng, style, parent, lang):
    """The line that introduces a quote, as the replier's client writes it."""
    p = parent.sender
    g = time.gmtime(parent.time + p.tz * 60)
    name = p.name or p.addr
    hm = f'{g.tm_hour:02d}:{g.tm_min:02d}'
    if lang == 'ru':
        if style == 'gmail':
            return (f'{RU_WEEKDAYS[g.tm_wday]}, {g.tm_mday} {RU_MONTHS_GEN[g.tm_mon - 1][:3]}. '
                    f'{g.tm_year} г. в {hm}, {name} <{p.addr}>:')
        if style == 'apple':
            return (f'{g.tm_mday} {RU_MONTHS_GEN[g.tm_mon - 1]} {g.tm_year} г., в {hm}, '
                    f'{name} <{p.addr}> написал(а):')
        if style == 'thebat':
            return f'Вы писали {g.tm_mday} {RU_MONTHS_GEN[g.tm_mon - 1]} {g.tm_year} г., {hm}:{g.tm_sec:02d}:'
        if style == 'webmail':
            return f'{g.tm_mday:02d}.{g.tm_mon:02d}.{g.tm_year}, {hm}, "{name}" <{p.addr}>:'
        return f'{g.tm_mday:02d}.{g.tm_mon:02d}.{g.tm_year} {hm}, {name} пишет:'
    hour12 = (g.tm_hour + 11) % 12 + 1
    ampm = 'AM' if g.tm_hour < 12 else 'PM'
    if style == 'gmail':
        return (f'On {WEEKDAYS[g.tm_wday]}, {MONTHS[g.tm_mon - 1]} {g.tm_mday}, {g.tm_year} '
                f'at {hour12}:{g.tm_min:02d} {ampm} {name} <{p.addr}> wrote:')
    if style == 'apple':
        return f'On {g.tm_mday} {MONTHS[g.tm_mon - 1]} {g.tm_year}, at {hm}, {name} <{p.addr}> wrote:'
    if style == 'mutt':
        return (f'On {WEEKDAYS[g.tm_wday]}, {MONTHS[g.tm_mon - 1]} {g.tm_mday:02d}, {g.tm_year} at '
                f'{hour12:02d}:{g.tm_min:02d}:{g.tm_sec:02d}{ampm} {zone(p.tz)}, {name} wrote:')
    if style == 'pine':
        return f'On {WEEKDAYS[g.tm_wday]}, {g.tm_mday} {MONTHS[g.tm_mon - 1]} {g.tm_year}, {name} wrote:'
    if style == 'thebat':
        return f'On {g.tm_mday} {MONTHS_LONG[g.tm_mon - 1]} {g.tm_year}, {hm}:{g.tm_sec:02d} you wrote:'
    if style == 'eudora':
        return (f'At {hour12}:{g.tm_min:02d} {ampm} {g.tm_mon}/{g.tm_mday}/{g.tm_year % 100:02d}, '
                f'{name} wrote:')
    if style == 'webmail':
        return f'On {g.tm_year}-{g.tm_mon:02d}-{g.tm_mday:02d} {hm}, {name} wrote:'
    return f'On {g.tm_mon}/{g.tm_mday}/{g.tm_year % 100:02d} {hm}, {name} wrote:'


def outlook_header(parent, m, lang):
    """The header block Outlook puts above the text it forwards or quotes."""
    p = parent.sender
    g = time.gmtime(parent.time + p.tz * 60)
    hour12 = (g.tm_hour + 11) % 12 + 1
    when = (f'{WEEKDAYS_LONG[g.tm_wday]}, {MONTHS_LONG[g.tm_mon - 1]} {g.tm_mday}, '
            f'{g.tm_year} {hour12}:{g.tm_min:02d} {"AM" if g.tm_hour < 12 else "PM"}')
    to = m.sender.name or m.sender.addr
    subject = parent.thread.subject if parent.thread else ''
    if lang == 'ru':
        return ['-----Исходное сообщение-----', f'От: {p.name or p.addr} <{p.addr}>',
                f'Отправлено: {when}', f'Кому: {to}', f'Тема: {subject}']
    return ['-----Original Message-----', f'From: {p.name or p.addr} [mailto:{p.addr}]',
            f'Sent: {when}', f'To: {to}', f'Subject: {subject}']


def compose(m, rng):
    """Decide what m says: greeting, own text, quote, signature, footer."""
    b = Body()
    client = CLIENTS[m.sender.client]
    ru = m.lang == 'ru'
    if m.kind == 'robot':
        b.paragraphs = robot_paragraphs(m, rng)
    else:
        b.paragraphs = own_paragraphs(m)
        addressee = m.parent.sender if m.parent else None
        if rng.random() < 0.55:
            if addressee and addressee.first and rng.random() < 0.7:
                b.greeting = (f'Привет, {addressee.first}!' if ru else f'Hi {addressee.first},')
            else:
                b.greeting = rng.choice(('Добрый день!', 'Коллеги,', 'Здравствуйте!') if ru
                                        else ('Hello,', 'Hi all,', 'Hello everyone,', 'Hi,'))
        if m.sender.signature and rng.random() < 0.85:
            b.signature = list(m.sender.signature)
            if ru and rng.random() < 0.5:
                b.signature.insert(0, 'С уважением,')
        elif rng.random() < 0.3:
            b.signature = [m.sender.first or (m.sender.name or '').split(' ')[0] or '--']
    for word in m.markers:
        if word in MARKER_PHRASES and rng.random() < 0.5:
            word = MARKER_PHRASES[word]
        insert_word(rng, b.paragraphs, word)
    parent = m.parent
    if parent is not None:
        b.post = client.post
        if client.quote == 'thebat':
            b.prefix = (parent.sender.initials if parent.sender.name else '') + '> '
            b.greeting = (f'Здравствуйте, {parent.sender.first or "коллеги"}.' if ru
                          else f'Hello {parent.sender.first or "all"},')
        if b.post == 'outlook':
            b.outlook_header = outlook_header(parent, m, m.lang)
        else:
            b.attribution = attribution(rng, client.quote, parent, m.lang)
        quoted = []
        for paragraph in own_paragraphs(parent, limit=3):
            quoted.extend((1, line) for line in wrap(paragraph, 70))
            quoted.append((1, ''))
        quoted = quoted[:rng.randint(3, 14)]
        while quoted and not quoted[-1][1]:
            quoted.pop()
        grandparent = parent.parent
        if grandparent is not None and b.post in ('bottom', 'inline') and rng.random() < 0.6:
            # The parent's own quote of its parent, one level deeper.
            inner = wrap(own_paragraphs(grandparent, limit=1)[0], 68)[:4]
            inner_attribution = attribution(rng, CLIENTS[parent.sender.client].quote,
                                             grandparent, parent.lang)
            quoted = ([(1, inner_attribution)] + [(2, line) for line in inner] + [(1, '')]
                      + quoted)
        b.quoted = quoted
    if m.lst is not None and m.lst.footer and m.kind != 'robot':
        b.footer = ['_______________________________________________',
                    f'{m.lst.name} mailing list', m.lst.address,
                    f'https://{m.lst.host}/mailman/listinfo/{m.lst.name}']
    return b


ROBOT_TEXT = {
    'ci': ('Pipeline #{n} has {status} for {branch}.', 'Project: {project}',
           'Branch: {branch}', 'Commit: {hash}', 'Commit Author: {author}',
           'Stage: test', 'Job #{n2}: {word}'),
    'bug': ('https://bugs.gtk-project.example/show_bug.cgi?id={n}', '',
            '{author} changed:', '', '  What: Status', '  Removed: NEW',
            '  Added: ASSIGNED'),
    'jira': ('{author} updated an issue', 'Key: {key}-{n}', 'Status: In Progress',
             'Priority: Major'),
    'news': ('This week in {project}:', 'Read online: https://{host}/issues/{n}'),
    'news-ru': ('Главное за неделю в {project}:', 'Читать на сайте: https://{host}/issues/{n}'),
    'shop': ('Здравствуйте!', 'Ваш заказ №{n} {status_ru}.', 'Сумма: {n2} руб.'),
    'bank': ('Уважаемый клиент!', 'Во вложении выписка по счёту.', 'Остаток: {n2} руб.'),
    'cron': ('run-parts: nightly-backup exited with return code {code}',),
    'calendar': ('You have been invited to the following event.', 'When: {when}',
                 'Calendar: {account}', 'Who: {author}'),
}


def robot_fields(m, rng):
    g = time.gmtime(m.time)
    return dict(n=rng.randrange(1000, 99999), n2=rng.randrange(100, 99999),
                status=rng.choice(('failed', 'passed', 'been fixed')),
                status_ru=rng.choice(('отправлен', 'доставлен', 'оплачен', 'принят')),
                branch=rng.choice(('main', 'master', 'release-2.4', 'wip/fix-build')),
                project=rng.choice(('letterbox', 'gtk', 'widgets', 'docs')),
                hash=rand_chars(rng, HEX, 40), author=rng.choice(ROBOT_AUTHORS),
                key=rng.choice(('PROJ', 'OPS', 'WEB')), code=rng.randrange(1, 3),
                when=f'{WEEKDAYS[g.tm_wday]} {MONTHS[g.tm_mon - 1]} {g.tm_mday}, {g.tm_year}',
                account=m.account.addr, word=rng.choice(('build', 'lint', 'unit-tests')),
                month=RU_MONTHS_GEN[g.tm_mon - 1], year=g.tm_year,
                host=m.sender.addr.split('@', 1)[1])


ROBOT_AUTHORS = ('Alice Builder', 'Bob Tester', 'Carol Maintainer', 'Дмитрий Сборщиков')


def robot_paragraphs(m, rng):
    fields = robot_fields(m, rng)
    kind = m.sender.robot
    template = ROBOT_TEXT.get(f'{kind}-{m.lang}', ROBOT_TEXT[kind])
    lines = [line.format(**fields) for line in template]
    paragraphs = ['\n'.join(lines)] if kind in ('ci', 'bug', 'jira', 'cron') else lines
    return paragraphs + own_paragraphs(m)


def robot_subject(m, rng):
    f = robot_fields(m, rng)
    kind = m.sender.robot
    topic = m.thread.subject if m.thread else ''
    if kind == 'ci':
        return f'{f["project"]} | Pipeline #{f["n"]} has {f["status"]} for {f["branch"]} | {f["hash"][:8]}'
    if kind == 'bug':
        return f'[Bug {f["n"]}] ' + ('New: ' if rng.random() < 0.3 else '') + topic
    if kind == 'jira':
        return f'[JIRA] ({f["key"]}-{f["n"]}) {topic}'
    if kind == 'news':
        return f'{m.sender.name} #{f["n"] % 300}: {topic}'
    if kind == 'shop':
        return f'Ваш заказ №{f["n"]} {f["status_ru"]}'
    if kind == 'bank':
        return f'Выписка по счёту за {f["month"]} {f["year"]}'
    if kind == 'cron':
        return 'Cron <root@build1> nightly-backup'
    return f'Invitation: {topic} @ {f["when"]} (UTC)'


def plain_layout(b, flowed):
    """The text/plain rendering of a Body."""
    own = []
    for lines in b.lines():
        if flowed:
            # format=flowed: a trailing space marks a soft line break.
            lines = [line + ' ' for line in lines[:-1]] + lines[-1:]
        own += lines
        own.append('')
    if b.signature:
        own += ['-- '] + b.signature
    while own and own[-1] == '':
        own.pop()
    greeting = [b.greeting, ''] if b.greeting else []
    # "> text" for the parent, "> > text" for the grandparent, bare ">" for
    # empty quoted lines; The Bat! uses the author's initials ("ИП> ").
    quoted = []
    for level, line in b.quoted:
        prefix = b.prefix + '> ' * (level - 1)
        quoted.append(prefix + line if line else prefix.rstrip())
    if b.outlook_header:
        out = greeting + own + ['', ''] + b.outlook_header + [''] + [line for _, line in b.quoted]
    elif b.attribution is None:
        out = greeting + own
    elif b.post == 'top':
        out = greeting + own + ['', b.attribution, ''] + quoted
    elif b.post == 'inline':
        # Interleaved: part of the quote, part of the answer, and again.
        half, cut = max(1, len(quoted) // 2), len(own) // 2
        out = [b.attribution] + quoted[:half] + [''] + greeting + own[:cut]
        out += [''] + quoted[half:] + [''] + own[cut:]
    else:
        out = greeting + [b.attribution] + quoted + [''] + own
    if b.footer:
        out += [''] + b.footer
    return '\n'.join(out) + '\n'


OUTLOOK_STYLE = """<style><!--
/* Font Definitions */
@font-face
	{font-family:"Cambria Math";
	panose-1:2 4 5 3 5 4 6 3 2 4;}
@font-face
	{font-family:Calibri;
	panose-1:2 15 5 2 2 2 4 3 2 4;}
/* Style Definitions */
p.MsoNormal, li.MsoNormal, div.MsoNormal
	{margin:0cm;
	font-size:11.0pt;
	font-family:"Calibri",sans-serif;}
a:link, span.MsoHyperlink
	{mso-style-priority:99;
	color:#0563C1;
	text-decoration:underline;}
span.EmailStyle17
	{mso-style-type:personal-compose;
	font-family:"Calibri",sans-serif;
	color:windowtext;}
.MsoChpDefault
	{mso-style-type:export-only;
	font-family:"Calibri",sans-serif;}
@page WordSection1
	{size:612.0pt 792.0pt;
	margin:72.0pt 72.0pt 72.0pt 72.0pt;}
div.WordSection1
	{page:WordSection1;}
--></style>"""


def html_layout(b, client, charset, images=()):
    """The text/html rendering of a Body, in the markup style of the client."""
    esc = html.escape
    style = client.name
    para_open, para_close = ('<p class="MsoNormal">', '</p>') if style == 'outlook' else (
        ('<div>', '</div>') if style == 'gmail' else ('<p>', '</p>'))
    body = []
    if b.greeting:
        body.append(f'{para_open}{esc(b.greeting)}{para_close}')
    for lines in b.lines():
        body.append(para_open + '\n'.join(map(esc, lines)) + para_close)
    for cid, name in images:
        body.append(f'{para_open}<img src="cid:{cid}" alt="{esc(name)}" width="320">{para_close}')
    if b.signature:
        body.append('<div class="signature">-- <br>\n' + '<br>\n'.join(esc(s) for s in b.signature)
                    + '</div>')
    if b.outlook_header:
        body.append('<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">')
        body.append('<p class="MsoNormal">' + '<br>\n'.join(esc(s) for s in b.outlook_header) + '</p></div>')
        body.append('\n'.join(f'<p class="MsoNormal">{esc(line) or "&nbsp;"}</p>' for _, line in b.quoted))
    elif b.attribution:
        inner = []
        level = 1
        for lvl, line in b.quoted:
            if lvl > level:
                inner.append('<blockquote type="cite">')
            elif lvl < level:
                inner.append('</blockquote>')
            level = lvl
            inner.append(esc(line) + '<br>')
        if level > 1:
            inner.append('</blockquote>')
        quote = (f'<div class="moz-cite-prefix">{esc(b.attribution)}<br></div>\n'
                 '<blockquote type="cite">\n' + '\n'.join(inner) + '\n</blockquote>')
        if b.post == 'top':
            body.append(quote)
        else:
            body.insert(1 if b.greeting else 0, quote)
    if b.footer:
        body.append('<pre>' + esc('\n'.join(b.footer)) + '</pre>')
    content = '\n'.join(body)
    if style == 'gmail':
        return f'<div dir="ltr">{content}</div>\n'
    if style == 'outlook':
        return ('<html xmlns:o="urn:schemas-microsoft-com:office:office" '
                'xmlns:w="urn:schemas-microsoft-com:office:word">\n<head>\n'
                f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
                '<meta name="Generator" content="Microsoft Word 15 (filtered medium)">\n'
                f'{OUTLOOK_STYLE}\n</head>\n<body lang="EN-US" link="#0563C1" vlink="#954F72">\n'
                f'<div class="WordSection1">\n{content}\n</div>\n</body>\n</html>\n')
    return ('<html>\n<head>\n'
            f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
            f'</head>\n<body>\n{content}\n</body>\n</html>\n')


def newsletter_html(m, rng, b, charset):
    """A table-laid-out newsletter, the bulky kind of HTML mail."""
    items = []
    sampler = VOCAB.subject[m.lang]
    for i in range(rng.randint(4, 14)):
        title = ' '.join(sampler.sample(rng, rng.randint(3, 8)))
        text = '\n'.join(wrap(' '.join(VOCAB.text[m.lang].sample(rng, rng.randint(30, 90))), 76))
        items.append(
            '<tr>\n<td style="padding:16px 24px;font-family:Helvetica,Arial,sans-serif;'
            'font-size:15px;line-height:22px;color:#333333;">\n'
            f'<h2 style="margin:0 0 8px 0;font-size:19px;color:#1a1a1a;">{html.escape(title)}</h2>\n'
            f'<p style="margin:0;">{html.escape(text)}</p>\n'
            f'<a href="https://news.example/r/{rand_chars(rng, ALNUM, 24)}" '
            'style="color:#0b6bcb;text-decoration:none;">Read more</a>\n</td>\n</tr>')
    intro = '\n'.join('<p>' + html.escape(p) + '</p>' for p in b.paragraphs[:2])
    return ('<!DOCTYPE html>\n<html>\n<head>\n'
            f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '</head>\n<body style="margin:0;padding:0;background:#f4f4f4;">\n'
            '<table role="presentation" width="100%" cellspacing="0" cellpadding="0" border="0">\n'
            f'<tr><td style="padding:24px;">{intro}</td></tr>\n' + '\n'.join(items) +
            '\n<tr><td style="padding:24px;font-size:12px;color:#888888;">'
            f'<a href="https://news.example/unsubscribe/{rand_chars(rng, ALNUM, 32)}">Unsubscribe</a>'
            '</td></tr>\n</table>\n</body>\n</html>\n')


# --------------------------------------------------------------------------
# MIME parts

def b64_lines(data):
    """Base64 in lines of 76 characters, built without a Python loop per line."""
    encoded = binascii.b2a_base64(data, newline=False)
    full, rest = divmod(len(encoded), 76)
    out = bytearray(full * 77)
    for column in range(76):
        out[column::77] = encoded[column:full * 76:76]
    out[76::77] = b'\n' * full
    if rest:
        out += encoded[full * 76:] + b'\n'
    return out


def param(client, name, value):
    return f'{name}="{value}"' if client.quoted_params else (
        f'{name}={value}' if value.replace('-', '').replace('.', '').isalnum() else f'{name}="{value}"')


def text_part(text, subtype, charset, cte, client, flowed=False, disposition=None):
    """A text/* leaf: (header lines, encoded body)."""
    try:
        data = text.encode(charset)
    except UnicodeEncodeError:
        charset = 'UTF-8'
        data = text.encode(charset)
    if data.isascii() and cte.lower() != 'base64':
        cte = '7bit'
    if cte.lower() == 'quoted-printable':
        data = binascii.b2a_qp(data, istext=True)
    elif cte.lower() == 'base64':
        data = b64_lines(data)
    ctype = f'text/{subtype}; {param(client, "charset", charset)}'
    if flowed:
        ctype += '; format=flowed'
    if client.name == 'pine':
        ctype = ctype.replace('text/plain', 'TEXT/PLAIN')
    headers = [f'Content-Type: {ctype}', f'Content-Transfer-Encoding: {cte}']
    if disposition:
        headers.append(disposition)
    return headers, data


def multipart(subtype, parts, boundary, preamble='', close=True):
    """A multipart/* node: (header lines, body) from (headers, body) parts."""
    delimiter = b'--' + boundary.encode('ascii')
    chunks = [preamble.encode('ascii') + b'\n' if preamble else b'']
    for headers, body in parts:
        chunks.append(delimiter + b'\n')
        chunks.append(header_block(headers))
        chunks.append(b'\n')
        chunks.append(body)
        if not body.endswith(b'\n'):
            chunks.append(b'\n')
    if close:
        chunks.append(delimiter + b'--\n')
    return [f'Content-Type: multipart/{subtype};\n boundary="{boundary}"'], b''.join(chunks)


def header_block(lines):
    """Header lines as bytes; str lines must be ASCII (anything else is a bug
    unless it was deliberately given as bytes)."""
    return b''.join((line.encode('ascii') if isinstance(line, str) else line) + b'\n'
                    for line in lines)


ATTACHMENT_KINDS = (
    # (weight, content type, extension, magic bytes)
    (30, 'application/pdf', 'pdf', b'%PDF-1.5\n%\xe2\xe3\xcf\xd3\n'),
    (14, 'image/png', 'png', b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR'),
    (18, 'image/jpeg', 'jpg', b'\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01'),
    (9, 'application/zip', 'zip', b'PK\x03\x04\x14\x00\x00\x00\x08\x00'),
    (12, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
     'docx', b'PK\x03\x04\x14\x00\x06\x00\x08\x00'),
    (6, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
     'xlsx', b'PK\x03\x04\x14\x00\x06\x00\x08\x00'),
    (11, 'text/plain', 'txt', None),
)
EN_FILE_STEMS = ('report', 'invoice', 'scan', 'presentation', 'notes', 'screenshot',
                 'photo', 'contract', 'budget', 'minutes', 'diagram', 'logs', 'backup',
                 'draft', 'specification', 'build-log', 'fix-build')
RU_FILE_STEMS = ('отчёт', 'счёт', 'договор', 'скан', 'презентация', 'протокол',
                 'фото', 'смета', 'заявление', 'план работ')


def attachment_size(rng):
    """5 KB to 500 KB, mostly small: 5 KB * 100**(u**1.7)."""
    return int(5000 * 100 ** (rng.random() ** 1.7))


def filename(rng, lang, ext, when):
    g = time.gmtime(when)
    if lang == 'ru' and rng.random() < 0.7:
        stem = rng.choice(RU_FILE_STEMS)
        return f'{stem} {g.tm_mday:02d}.{g.tm_mon:02d}.{g.tm_year}.{ext}'
    stem = rng.choice(EN_FILE_STEMS)
    if rng.random() < 0.5:
        return f'{stem}-{g.tm_year}-{g.tm_mon:02d}.{ext}'
    return f'{stem}_{rng.randrange(1, 9999):04d}.{ext}'


def filename_params(client, name, key):
    """'name="..."' or RFC 2231 'name*=...' (with continuations if long), or
    the common non-standard RFC 2047 word inside quotes."""
    if name.isascii():
        return [f'{key}="{name}"']
    if client.filenames == '2047':
        charset = client.subject_charset or 'UTF-8'
        return [f'{key}="{header_text(name, charset, "B", 200).replace(chr(10) + " ", "")}"']

    def escape(ch):
        return ''.join(chr(b) if (chr(b).isalnum() and b < 128) or chr(b) in '-._' else '%%%02X' % b
                       for b in ch.encode('utf-8'))

    escaped = [escape(ch) for ch in name]
    if sum(map(len, escaped)) <= 60:
        return [f"{key}*=UTF-8''{''.join(escaped)}"]
    # Continuations (name*0*, name*1*, ...) cut between characters.
    pieces, current = [], ''
    for piece in escaped:
        if len(current) + len(piece) > 54:
            pieces.append(current)
            current = ''
        current += piece
    pieces.append(current)
    charset = "UTF-8''"
    return [f'{key}*{i}*={charset if i == 0 else ""}{piece}' for i, piece in enumerate(pieces)]


def attachment_part(rng, m, client, kind=None, inline_cid=None, corrupt=False):
    """A base64 (or text) attachment of 5-500 KB of random bytes behind a
    realistic magic number."""
    if kind is None:
        # Only base64 attachments can be corrupted.
        kinds = [k for k in ATTACHMENT_KINDS if k[3] is not None or not corrupt]
        kind = rng.choices(kinds, [k[0] for k in kinds])[0]
    _, ctype, ext, magic = kind
    name = filename(rng, m.lang, ext, m.time) if inline_cid is None else \
        f'image{rng.randrange(1, 20):03d}.{ext}'
    name_params = filename_params(client, name, 'name')
    file_params = filename_params(client, name, 'filename')
    how = 'inline' if inline_cid else 'attachment'
    headers = [f'Content-Type: {ctype};\n ' + ';\n '.join(name_params),
               f'Content-Disposition: {how};\n ' + ';\n '.join(file_params)]
    if magic is None:
        words = VOCAB.text[m.lang].sample(rng, rng.randint(200, 3000))
        text = '\n'.join(wrap(' '.join(words), 72)) + '\n'
        text_headers, data = text_part(text, 'plain', 'utf-8', rng.choice(('8bit', 'base64')), client)
        headers = [text_headers[0] + ';\n ' + ';\n '.join(name_params)] + headers[1:] + text_headers[1:]
        return headers, data
    size = attachment_size(rng) if inline_cid is None else rng.randint(2000, 60000)
    data = b64_lines(magic + rng.randbytes(max(0, size - len(magic))))
    if corrupt:
        cut = len(data) // 2
        data = data[:cut] + b'!!corrupt line %%%\n' + data[cut:-5] + b'\n'
    headers.append('Content-Transfer-Encoding: base64')
    if inline_cid:
        headers.append(f'Content-ID: <{inline_cid}>')
    return headers, data


def forwarded_part(rng, m):
    """message/rfc822: an older message forwarded as an attachment; it
    carries the subject the forward's "Fwd:" subject repeats."""
    other = rng.choice(PLAN)
    for _ in range(20):
        if other.time < m.time:
            break
        other = rng.choice(PLAN)
    when = other.time if other.time < m.time else m.time - rng.randrange(3600, 30 * 86400)
    sender = other.sender
    subject = m.thread.subject if m.thread and m.thread.subject else 'Notes'
    text = '\n\n'.join('\n'.join(wrap(p)) for p in own_paragraphs(other, limit=2)) + '\n'
    inner = [f'From: {sender.mailbox}', f'To: {m.sender.mailbox}',
             f'Subject: {header_text(subject, "UTF-8", "B", 66)}',
             f'Date: {format_date(rng, when, sender.tz, "std")}',
             'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8',
             'Content-Transfer-Encoding: 8bit']
    if other.msgid and other.time < m.time:
        inner.insert(4, f'Message-ID: {other.msgid}')
    data = header_block(inner) + b'\n' + text.encode('utf-8')
    return ['Content-Type: message/rfc822', 'Content-Disposition: attachment'], data


def build_body(m, rng, client):
    """The MIME structure of m: (top-level content header lines, body bytes)."""
    b = compose(m, rng)
    bad_charset = m.quirk == 'bad-charset'
    wants_html = not bad_charset and (
        m.inline or (m.kind == 'robot' and m.sender.robot in ('news', 'shop', 'bank'))
        or rng.random() < client.html)
    broken_multipart = m.quirk in ('bad-base64', 'unterminated')
    footer = None
    if b.footer and (wants_html or m.attach or m.forward or broken_multipart):
        # Mailman adds its footer as a part of its own to multipart mail.
        footer, b.footer = b.footer, None
    flowed = client.flowed and m.kind != 'robot'
    plain = plain_layout(b, flowed)
    if plain.isascii():
        charset = client.ascii_charset
    else:
        charset = rng.choice(client.charsets) if m.lang == 'ru' else 'UTF-8'
    boundary_style = client.boundary
    if bad_charset:
        declared = rng.choice(('x-unknown', 'us-ascii', 'unknown-8bit'))
        data = plain.encode('koi8-r', 'replace') if m.lang == 'ru' else plain.encode('utf-8')
        main = ([f'Content-Type: text/plain; charset={declared}',
                 'Content-Transfer-Encoding: 8bit'], data)
    else:
        main = text_part(plain, 'plain', charset, client.cte, client, flowed)
    if wants_html:
        images = []
        if m.kind == 'robot' and m.sender.robot == 'news':
            markup = newsletter_html(m, rng, b, charset)
        else:
            if m.inline:
                images = [(f'image{i + 1:03d}.png@01D{rand_chars(rng, HEX.upper(), 5)}.'
                           f'{rand_chars(rng, HEX.upper(), 8)}', f'image{i + 1:03d}.png')
                          for i in range(rng.randint(1, 3))]
            markup = html_layout(b, client, charset, images)
        html_cte = 'base64' if client.cte == 'base64' else 'quoted-printable'
        html_part = text_part(markup, 'html', charset, html_cte, client)
        if images:
            png = ATTACHMENT_KINDS[1]
            related = [html_part] + [attachment_part(rng, m, client, png, cid) for cid, _ in images]
            html_part = multipart('related', related, new_boundary(rng, boundary_style))
        main = multipart('alternative', [main, html_part], new_boundary(rng, boundary_style))
    extra = [attachment_part(rng, m, client, corrupt=(m.quirk == 'bad-base64' and i == 0))
             for i in range(m.attach)]
    if m.forward:
        extra.append(forwarded_part(rng, m))
    if broken_multipart and not m.attach:
        extra.append(attachment_part(rng, m, client, corrupt=(m.quirk == 'bad-base64')))
    if footer:
        extra.append(text_part('\n'.join(footer) + '\n', 'plain', 'us-ascii', '7bit', client,
                               disposition='Content-Disposition: inline'))
    if extra:
        preamble = 'This is a multi-part message in MIME format.' \
            if client.name in ('thunderbird', 'thebat', 'eudora') else ''
        main = multipart('mixed', [main] + extra, new_boundary(rng, boundary_style), preamble,
                         close=(m.quirk != 'unterminated'))
    return main


# --------------------------------------------------------------------------
# Headers and whole messages

def stream_seed(pid, purpose):
    return (SEED << 40) ^ (pid << 3) ^ purpose


def subject_line(m, rng, client):
    """The Subject header (or None for none at all)."""
    if m.kind == 'robot':
        text = robot_subject(m, rng)
    else:
        text = m.thread.subject if m.thread else ''
        if m.thread and m.thread.marked:
            text = f'{text} (xylophone)'.lstrip()
        if m.parent is not None:
            if m.fwd_reply:
                text = client.forward + text
            elif client.name == 'thebat' and m.depth > 1:
                text = f'Re[{m.depth}]: ' + text
            else:
                text = client.reply + ('Re: ' if m.depth > 3 and rng.random() < 0.1 else '') + text
        elif m.forward:
            text = client.forward + text
        if m.lst is not None and m.lst.tag:
            text = m.lst.tag + text
    if not text and m.thread and m.parent is None and rng.random() < 0.4:
        return None
    if m.quirk == 'raw-8bit' and not text.isascii():
        return b'Subject: ' + text.encode('koi8-r' if m.lang == 'ru' else 'utf-8', 'replace')
    if text.isascii():
        return fold_words('Subject', text) if text else 'Subject: '
    charset = client.subject_charset or ('UTF-8' if client.name != 'outlook' else
                                         rng.choice(('koi8-r', 'windows-1251', 'utf-8')))
    mode = 'Q' if client.name in ('mutt', 'thunderbird') and rng.random() < 0.4 else 'B'
    if client.name in ('mutt', 'pine') and ':' in text[:12]:
        # Keep an ASCII "Re: " outside the encoded words, as some clients do.
        head, rest = text.split(':', 1)
        if head.isascii():
            return f'Subject: {head}: ' + header_text(rest.lstrip(), charset, mode, 75 - len(head) - 11)
    return 'Subject: ' + header_text(text, charset, mode, 66)


def recipients(m, rng, pool):
    """To and Cc mailboxes (1-20 in all)."""
    owner = m.account.mailbox
    to, cc = [], []
    n_to = 1 if rng.random() < 0.7 else (rng.randint(2, 3) if rng.random() < 0.7 else rng.randint(4, 12))
    n_cc = 0 if rng.random() < 0.65 else (rng.randint(1, 3) if rng.random() < 0.7 else rng.randint(4, 8))
    if m.kind == 'robot':
        return ([owner] if rng.random() < 0.85 else ['undisclosed-recipients:;']), []
    if m.lst is not None:
        to.append(m.lst.address)
        if m.parent is not None and rng.random() < 0.6:
            to.append(m.parent.sender.mailbox)
        cc.extend(rng.choice(pool).mailbox for _ in range(n_cc))
    else:
        if m.parent is not None:
            to.append(m.parent.sender.mailbox)
        if m.kind != 'own' and owner not in to:
            (to if rng.random() < 0.8 else cc).append(owner)
        while len(to) < n_to:
            to.append(rng.choice(pool).mailbox)
        cc.extend(rng.choice(pool).mailbox for _ in range(n_cc))
    return to[:20], cc[:max(0, 20 - len(to))]


def reference_headers(m, rng):
    """In-Reply-To and References as the reply's style wants them."""
    if m.parent is None:
        return []
    parent_id = m.parent.msgid
    refs = list(m.refs)
    style = m.ref_style
    out = []
    if style == 'mh':
        out.append(f'In-Reply-To: Your message of "{format_date(rng, m.parent.time, 0, "std0")}."'
                   f'\n {parent_id}')
    elif style == 'junk':
        name = m.parent.sender.name or m.parent.sender.addr
        out.append(f'In-Reply-To: {parent_id} (message from {ascii_fold_name(name)})')
    elif style != 'refs-only':
        out.append(f'In-Reply-To: {parent_id}')
    if style in ('irt-only', 'mh'):
        return out
    if style == 'truncated' and len(refs) > 3:
        keep = rng.randint(1, 3)
        refs = ([refs[0]] if rng.random() < 0.5 else []) + refs[-keep:]
    if style == 'junk' and len(refs) > 1:
        junked = []
        for i, ref in enumerate(refs):
            junked.append(ref)
            if i < len(refs) - 1:
                junked[-1] += rng.choice((',', ' (Re: earlier)', ' and', ''))
        out.append(fold_list('References', junked, sep=''))
    elif CLIENTS[m.sender.client].name == 'thunderbird':
        out.append('References: ' + '\n '.join(refs))
    else:
        out.append(fold_list('References', refs, sep=''))
    return out


def ascii_fold_name(name):
    """name in ASCII letters, keeping capitals and spaces."""
    out = []
    for ch in name:
        folded = ascii_fold(ch)
        out.append(folded.capitalize() if ch.isupper() else folded)
    return ''.join(out)


def received_lines(m, rng, relay_list):
    """Trace headers, newest first, ending at the owner's server."""
    domain = m.account.addr.split('@', 1)[1]
    sender_domain = m.sender.addr.split('@', 1)[1]
    t = m.delivered
    lines = []
    hops = []
    if relay_list is not None:
        hops.append(relay_list.host)
    hops.append(f'mail{rng.randrange(1, 9)}.{sender_domain}')
    previous = f'mx{rng.randrange(1, 4)}.{domain}'
    for host in hops:
        ip = f'{rng.choice(("192.0.2", "198.51.100", "203.0.113"))}.{rng.randrange(1, 255)}'
        lines.append(f'Received: from {host} ({host} [{ip}])\n\tby {previous} (Postfix) with ESMTPS id '
                     f'{rand_chars(rng, ALNUM[:26] + ALNUM[52:], 12)}\n\tfor <{m.account.addr}>; '
                     f'{format_date(rng, t, 0, "std")}')
        previous = host
        t -= rng.randrange(1, 30)
    return lines


def dkim(rng, domain, when):
    signature = rand_b64(rng, 256)
    folded = '\n\t '.join(signature[i:i + 70] for i in range(0, len(signature), 70))
    return (f'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain};\n'
            f'\ts=sel{rng.randrange(1, 4)}; t={when};\n'
            '\th=from:to:subject:date:message-id:mime-version:content-type;\n'
            f'\tbh={rand_b64(rng, 32)};\n\tb={folded}')


def list_headers(lst, rng):
    description = header_text(lst.description, 'UTF-8', 'Q', 60)
    if lst.newsletter:
        return [f'List-Id: {description} <{lst.id}>',
                f'List-Unsubscribe: <https://{lst.host}/unsubscribe/{rand_chars(rng, ALNUM, 32)}>,\n'
                f' <mailto:unsubscribe@{lst.host}?subject={rand_chars(rng, HEX, 16)}>',
                'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
                'Precedence: bulk']
    return [f'List-Id: {description} <{lst.id}>',
            f'List-Unsubscribe: <https://{lst.host}/mailman/options/{lst.name}>,\n'
            f' <mailto:{lst.name}-request@{lst.host}?subject=unsubscribe>',
            f'List-Archive: <https://{lst.host}/pipermail/{lst.name}/>',
            f'List-Post: <mailto:{lst.address}>',
            f'List-Help: <mailto:{lst.name}-request@{lst.host}?subject=help>',
            f'Precedence: list',
            f'Sender: "{lst.name}" <{lst.name}-bounces@{lst.host}>',
            f'Errors-To: {lst.name}-bounces@{lst.host}']


def message_headers(m, rng, client, content_headers):
    """All header lines of m in its client's order, trace and list headers
    around them."""
    sender = m.sender
    fields = {}
    if m.quirk == 'no-date':
        pass
    elif m.quirk == 'bad-date':
        fields['Date'] = 'Date: ' + broken_date(rng, m.time)
    else:
        fields['Date'] = 'Date: ' + format_date(rng, m.time, sender.tz, client.date)
    if m.quirk == 'raw-8bit' and sender.name and not sender.name.isascii():
        raw_name = sender.name.encode('koi8-r' if m.lang == 'ru' else 'utf-8', 'replace')
        fields['From'] = b'From: ' + raw_name + f' <{sender.addr}>'.encode('ascii')
    else:
        fields['From'] = f'From: {sender.mailbox}'
    to, cc = recipients(m, rng, PEOPLE_POOL)
    fields['To'] = fold_list('To', to)
    if cc:
        fields['Cc'] = fold_list('Cc', cc)
    subject = subject_line(m, rng, client)
    if subject is not None:
        fields['Subject'] = subject
    apple = client.name == 'apple'
    if m.msgid:
        msgid = m.msgid.strip('<>') if m.quirk == 'bare-msgid' else m.msgid
        fields['Message-ID'] = f'{"Message-Id" if apple else "Message-ID"}: {msgid}'
    for line in reference_headers(m, rng):
        fields[line.split(':', 1)[0]] = line
    fields['MIME-Version'] = ('Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3696.120.41.1.1\\))'
                              if apple else 'MIME-Version: 1.0')
    for line in content_headers:
        fields[line.split(':', 1)[0]] = line
    if client.agent:
        fields[client.agent[0]] = f'{client.agent[0]}: {client.agent[1]}'
    if client.name == 'outlook':
        topic = m.thread.subject if m.thread else ''
        if topic.isascii() and topic:
            fields['Thread-Topic'] = fold_words('Thread-Topic', topic)
        fields['Thread-Index'] = 'Thread-Index: ' + rand_b64(rng, 22 + 5 * min(m.depth, 10))
        fields['Accept-Language'] = 'Accept-Language: en-US, ru-RU'
        fields['Content-Language'] = 'Content-Language: ' + ('ru-RU' if m.lang == 'ru' else 'en-US')
        fields['X-MS-Has-Attach'] = 'X-MS-Has-Attach: ' + ('yes' if m.attach else '')
    elif client.name == 'thunderbird':
        fields['Content-Language'] = 'Content-Language: ' + ('ru' if m.lang == 'ru' else 'en-US')
    if m.quirk == 'no-separator':
        fields['X-Junk'] = rng.choice(('This line is not a header', '>From the old gateway',
                                       '--'))
    lines = [f'Return-Path: <{sender.addr if m.lst is None else m.lst.name + "-bounces@" + m.lst.host}>',
             f'Delivered-To: {m.account.addr}']
    lines += received_lines(m, rng, m.lst)
    if client.name in ('gmail', 'robot', 'outlook') and rng.random() < 0.8:
        lines.append(dkim(rng, sender.addr.split('@', 1)[1], m.time))
    order = client.order
    for name in order:
        if name in fields:
            lines.append(fields.pop(name))
    junk = fields.pop('X-Junk', None)
    lines.extend(fields.values())
    if junk is not None:
        lines.insert(len(lines) - rng.randint(1, 3), junk)
    if m.lst is not None:
        lines += list_headers(m.lst, rng)
    return lines


def render(m):
    """The bytes of planned message m."""
    if m.copy_of is not None:
        rng = random.Random(stream_seed(m.pid, RENDER))
        data = render(m.copy_of)
        trace = (f'Received: from mx{rng.randrange(1, 4)}.{m.account.addr.split("@", 1)[1]}\n'
                 f'\tby imap.{m.account.addr.split("@", 1)[1]} (Dovecot) with LMTP id '
                 f'{rand_chars(rng, ALNUM, 22)}\n\t; {format_date(rng, m.delivered, 0, "std")}\n')
        return trace.encode('ascii') + data
    rng = random.Random(stream_seed(m.pid, RENDER))
    client = CLIENTS[m.sender.client]
    content_headers, body = build_body(m, rng, client)
    headers = message_headers(m, rng, client, content_headers)
    return header_block(headers) + b'\n' + body


# --------------------------------------------------------------------------
# Output

def file_name(m):
    base = f'{m.fidx}.gen{SEED}.letterbox'
    return os.path.join(m.folder, base if m.folder == 'new' else f'{base}:2,{m.flags}')


def write_range(bounds):
    """Write the messages with file indices in [start, end); return bytes."""
    start, end = bounds
    total = 0
    for m in PLAN[start:end]:
        data = render(m)
        path = os.path.join(OUTDIR, file_name(m))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.utime(path, (m.delivered, m.delivered))
        total += len(data)
    return total


# Module state, set by setup() before the workers fork.
SEED = DEFAULT_SEED
VOCAB = None
PLAN = []
PEOPLE_POOL = []
OUTDIR = '.'


def setup(count, seed, accounts):
    """Build the vocabulary and the plan; return the plan (by file index)."""
    global SEED, VOCAB, PLAN, PEOPLE_POOL
    SEED = seed
    if VOCAB is None:
        VOCAB = Vocabulary()
    planner = Planner(count, seed, accounts)
    PEOPLE_POOL = planner.people
    records = planner.plan()
    PLAN = [None] * len(records)
    for m in records:
        PLAN[m.fidx] = m
    return PLAN


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description='Write a deterministic, realistic Maildir of generated mail '
                    '(OUTDIR/tmp, new, cur) for benchmarks and tests.',
        epilog='The same --seed and --count always produce the same files. '
               'See bench/README.md for the mix and the marker words.')
    parser.add_argument('--count', type=int, default=DEFAULT_COUNT,
                        help=f'number of messages (default {DEFAULT_COUNT})')
    parser.add_argument('--seed', type=int, default=DEFAULT_SEED,
                        help=f'random seed, >= 0 (default {DEFAULT_SEED})')
    parser.add_argument('--accounts', default=DEFAULT_ACCOUNTS, metavar='ADDR[,ADDR...]',
                        help='the mailbox owner\'s addresses, which the mail is '
                             f'delivered to (default {DEFAULT_ACCOUNTS})')
    parser.add_argument('--jobs', type=int, default=os.cpu_count() or 1,
                        help='worker processes (default: one per CPU); the output '
                             'does not depend on it')
    parser.add_argument('outdir', metavar='OUTDIR',
                        help='the Maildir to create; must not exist or be empty')
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error('--count must be at least 1')
    if args.seed < 0:
        parser.error('--seed must not be negative')
    if args.jobs < 1:
        parser.error('--jobs must be at least 1')
    args.accounts = [a.strip() for a in args.accounts.split(',') if a.strip()]
    if not args.accounts or not all(
            a.count('@') == 1 and a.isascii() and ' ' not in a and '<' not in a
            for a in args.accounts):
        parser.error('--accounts wants comma-separated addresses such as me@example.org')
    return args


def main(argv=None):
    global OUTDIR
    args = parse_args(argv)
    started = time.monotonic()
    if os.path.exists(args.outdir) and (not os.path.isdir(args.outdir) or os.listdir(args.outdir)):
        sys.exit(f'gen-maildir: {args.outdir} exists and is not an empty directory')
    for sub in ('tmp', 'new', 'cur'):
        os.makedirs(os.path.join(args.outdir, sub), exist_ok=True)
    OUTDIR = args.outdir
    plan = setup(args.count, args.seed, args.accounts)
    chunk = 500
    ranges = [(i, min(i + chunk, len(plan))) for i in range(0, len(plan), chunk)]
    if args.jobs > 1 and len(ranges) > 1:
        with multiprocessing.get_context('fork').Pool(args.jobs) as pool:
            total = sum(pool.imap_unordered(write_range, ranges))
    else:
        total = sum(map(write_range, ranges))
    elapsed = time.monotonic() - started
    print(f'gen-maildir: {len(plan)} messages, {total} bytes ({total / 2**20:.1f} MiB), '
          f'{elapsed:.1f} s', file=sys.stderr)


if __name__ == '__main__':
    main()
