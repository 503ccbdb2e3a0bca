/*-------------------------------------------------------------------------
 *
 * company.c
 *	  Company name keys and similarity: cdp.company_key,
 *	  cdp.company_similarity, cdp.company_match.
 *
 * A Chinese registered name is built as region + brand (字号) + industry
 * words + legal form: 贵州 茅台 酒 股份有限公司.  People write the brand with
 * or without the rest (贵州茅台, 茅台), in Traditional characters, in
 * full-width forms, in pinyin.  Latin names have the same shape: brand +
 * descriptive words + legal form ("Bridgestone Tire Co., Ltd.").
 *
 * company_key() normalises (normalize.c), drops closed bracketed parts
 * (（深圳）, (China)), punctuation and the legal forms at the end of the name
 * (taken from the ISO 20275 ELF list, see company_data.h).  The key is what
 * the trigram index on cdp.account is built on.
 *
 * company_similarity() splits the key of a Han name into region, body,
 * core (body without trailing industry words), and scores
 *	- the character-bigram Dice coefficient of the whole keys, and
 *	- the short-name rule: the shorter core, if at least two characters, is
 *	  a subsequence of the other's body (格力电器 in 珠海格力电器, 浦发银行 in
 *	  上海浦东发展银行), scaled by how much of the other core it covers and
 *	  penalised when the industry or region words disagree;
 * Latin names score trigram similarity with a rule for a shared
 * distinctive word (the brand), and a Latin name against a Han name compares
 * with the pinyin of the Han name.  Every rule is applied in both directions
 * and the maximum taken, so the score is symmetric; it lies in [0, 1].
 *
 * src/company.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include "cdp.h"
#include "company_data.h"

/* longest company name accepted, in bytes (about 340 Han characters) */
#define COMPANY_MAX_BYTES 1024

/* GUC cdp.company_match_threshold; tuned on the development data */
static double company_match_threshold = 0.6;

/*
 * Legal forms not in the ELF list, which has no company forms for mainland
 * China and no bare "Co." + "Ltd." combinations: documented in the README.
 */
static const char *const extra_legal_forms[] = {
	"有限责任公司", "股份有限公司", "有限公司", "公司", "分公司",
	"company limited", "co ltd", "co limited", "co inc", "corp ltd",
	"limited company", "company", "co", "corp", "corporation",
	"incorporated", "pvt ltd", "private limited", "pte ltd",
};

/* provinces and country words that open a registered name */
static const char *const province_names[] = {
	"中国", "中华", "北京市", "北京", "天津市", "天津", "上海市", "上海", "重庆市",
	"重庆", "河北省", "河北", "山西省", "山西", "辽宁省", "辽宁", "吉林省", "吉林",
	"黑龙江省", "黑龙江", "江苏省", "江苏", "浙江省", "浙江", "安徽省", "安徽",
	"福建省", "福建", "江西省", "江西", "山东省", "山东", "河南省", "河南",
	"湖北省", "湖北", "湖南省", "湖南", "广东省", "广东", "海南省", "海南",
	"四川省", "四川", "贵州省", "贵州", "云南省", "云南", "陕西省", "陕西",
	"甘肃省", "甘肃", "青海省", "青海", "台湾省", "台湾", "内蒙古自治区",
	"内蒙古", "广西壮族自治区", "广西", "西藏自治区", "西藏", "宁夏回族自治区",
	"宁夏", "新疆维吾尔自治区", "新疆", "香港特别行政区", "香港", "澳门特别行政区",
	"澳门",
};

/*
 * Industry and business-type words that close the body of a Chinese name;
 * what remains before them is the brand (字号).
 */
static const char *const industry_words[] = {
	"集团", "控股", "股份", "实业", "发展", "投资", "国际", "科技", "技术", "信息",
	"网络", "软件", "通信", "电子", "电子商务", "电商", "商务", "银行", "保险",
	"证券", "信托", "基金", "金融", "租赁", "融资租赁", "资产管理", "管理", "咨询",
	"服务", "贸易", "商贸", "经贸", "外贸", "进出口", "电器", "电气", "电力",
	"能源", "新能源", "化工", "医药", "药业", "制药", "生物", "医疗", "食品",
	"酒业", "酒", "饮料", "乳业", "汽车", "机械", "设备", "制造", "工业",
	"工程", "建设", "建筑", "建材", "材料", "新材料", "地产", "房地产", "置业",
	"开发", "物流", "运输", "航空", "船舶", "传媒", "文化", "传播", "教育",
	"环境", "环保", "钢铁", "矿业", "有色", "纺织", "服装", "服饰", "农业",
	"商行", "商店", "门市部", "店", "厂", "中心", "工作室", "经营部", "营销",
	"策划", "设计", "广告", "装饰", "家具", "塑料", "制品", "用品", "五金",
	"机电", "电子科技", "智能", "精密", "光电", "半导体", "石油", "燃气",
	"水务", "餐饮", "酒店", "旅游", "物业", "安装", "劳务", "家政", "印刷",
	"包装", "礼品", "电缆", "光伏", "照明", "化学", "钢", "铝业", "水泥", "玻璃",
	"陶瓷", "仪器", "仪表", "自动化", "系统", "数据", "云", "游戏", "影视",
	"娱乐", "体育", "健康", "养老", "母婴", "日化", "化妆品", "百货", "超市",
	"连锁", "零售", "批发", "市场", "供应链", "货运", "快递", "港口", "机场",
	"铁路", "高速", "公路", "交通", "园林", "景观", "绿化", "农牧", "牧业",
	"渔业", "林业", "种业", "饲料", "畜牧", "水产", "茶业", "茶叶", "粮油",
	"零部件", "汽车零部件", "器械", "医疗器械", "配件", "电池", "模具", "轴承",
	"味业", "调味", "酒厂", "酿酒", "矿业集团", "天然气", "药业集团",
};

/*
 * Latin words too common to identify a company on their own: shared, they
 * are not evidence of the same brand.
 */
static const char *const generic_latin_words[] = {
	"the", "and", "of", "for", "de", "del", "la", "le", "et", "y", "e", "und",
	"group", "holding", "holdings", "international", "intl", "global", "trading",
	"trade", "industries", "industry", "industrial", "industria", "comercio",
	"technology", "technologies", "tech", "systems", "system", "services",
	"service", "solutions", "products", "manufacturing", "mfg", "engineering",
	"logistics", "chemical", "chemicals", "plastic", "plastics", "electronic",
	"electronics", "electric", "tire", "tyre", "rubber", "auto", "automotive",
	"motor", "motors", "energy", "power", "steel", "metal", "metals", "materials",
	"import", "export", "imp", "exp", "distribution", "distributors", "supply",
	"supplies", "marine", "shipping", "transport", "construction", "development",
	"investment", "investments", "capital", "partners", "management", "consulting",
	"bank", "insurance", "china", "chinese", "shanghai", "beijing", "shenzhen",
	"guangzhou", "hong", "kong", "hongkong", "taiwan", "asia", "pacific", "usa",
	"america", "american", "europe", "european", "india", "japan", "korea",
	"mexico", "mexicana", "brasil", "brazil", "canada", "germany", "france",
	"uk", "north", "south", "east", "west", "new", "general", "national",
	"united", "world", "first", "golden", "star", "sun", "ltd", "inc", "llc",
	"co", "corp", "sa", "cv", "private", "pvt", "limited", "company",
	"enterprise", "enterprises", "sports", "sport", "textile", "textiles",
	"express", "performance", "equipment", "precision", "materials", "material",
	"comercial", "commercial", "super", "foods", "food", "pharma",
	"pharmaceutical", "pharmaceuticals", "medical", "healthcare", "health",
	"software", "digital", "media", "network", "networks", "telecom",
	"packaging", "machinery", "machine", "tools", "parts", "components",
	"philippines", "indonesia", "vietnam", "thailand", "malaysia", "singapore",
	"australia", "italia", "italy", "spain", "espana", "chile", "colombia",
	"peru", "argentina", "turkey", "russia", "rus", "polska", "poland",
	"deutschland", "nederland", "netherlands", "belgium", "sweden",
	"england", "london", "zone", "free", "park", "center", "centre", "city",
	"province", "shoes", "apparel", "garment", "garments", "fashion", "home",
	"trust", "finance", "financial", "securities", "real", "estate", "property",
	"properties", "agro", "farm", "oil", "gas", "petroleum", "mining", "minerals",
	"paper", "glass", "wood", "furniture", "construction", "building", "trading",
	"exports", "imports", "impex", "overseas", "worldwide", "solution",
};

/* normalised legal forms, split by script, built once per backend */
typedef struct FormList
{
	char	  **items;			/* canonical strings, longest first */
	int		   *lens;
	int			n;
	/* items again, ordered by first (or last) code point, then longest first */
	UChar32    *idx_keys;
	int		   *idx_items;
} FormList;

static FormList han_forms;
static FormList latin_forms;
static FormList regions;
static FormList industries;
static FormList generic_words;
static bool lists_ready = false;

/*
 * Is c a Han character?  Script property, so it covers every CJK block.
 */
static inline bool
IsHan(UChar32 c)
{
	UErrorCode	st = U_ZERO_ERROR;

	return uscript_getScript(c, &st) == USCRIPT_HAN;
}

/* opening and closing brackets whose contents company_key drops */
static int
OpeningBracket(UChar32 c)
{
	switch (c)
	{
		case '(':
			return ')';
		case '[':
			return ']';
		case '{':
			return '}';
		case 0x3010:			/* 【 */
			return 0x3011;
		case 0x3014:			/* 〔 */
			return 0x3015;
		case 0x3008:			/* 〈 */
			return 0x3009;
		case 0x300A:			/* 《 */
			return 0x300B;
		case 0x300C:			/* 「 */
			return 0x300D;
		case 0x300E:			/* 『 */
			return 0x300F;
		case 0x3016:			/* 〖 */
			return 0x3017;
		default:
			return 0;
	}
}

/*
 * Append code point c to buf as UTF-8.
 */
static void
AppendCodePoint(StringInfo buf, UChar32 c)
{
	char		tmp[U8_MAX_LENGTH];
	int32		n = 0;
	UBool		err = false;

	U8_APPEND(tmp, n, U8_MAX_LENGTH, c, err);
	if (!err)
		appendBinaryStringInfo(buf, tmp, n);
}

/*
 * Canonical form of a normalised name, before legal forms go: Han runs
 * written without spaces, other words (letters and digits of any script)
 * separated by one space, a space between a Han run and a word; closed
 * bracketed parts, punctuation, symbols and emoji dropped.  Apostrophes
 * join (McDonald's -> mcdonalds).
 */
static char *
Canonical(const UChar *u, int32 ulen)
{
	StringInfoData out;
	int32		i = 0;
	int			prev = 0;		/* 0 start/separator, 1 Han, 2 word */
	bool		sep = false;

	initStringInfo(&out);
	while (i < ulen)
	{
		UChar32		c;
		int32		at = i;
		int			close;

		U16_NEXT(u, i, ulen, c);
		close = OpeningBracket(c);
		if (close)
		{
			/* skip to the matching closer if there is one */
			int32		j = i;
			int			depth = 1;

			while (j < ulen)
			{
				UChar32		d;

				U16_NEXT(u, j, ulen, d);
				if (OpeningBracket(d) == close)
					depth++;
				else if (d == close && --depth == 0)
					break;
			}
			if (depth == 0)
				i = j;
			sep = true;
			continue;
		}
		(void) at;
		if (c == '\'' || c == 0x2019)
			continue;
		if (IsHan(c))
		{
			if (prev == 2)
				appendStringInfoChar(&out, ' ');
			AppendCodePoint(&out, c);
			prev = 1;
			sep = false;
		}
		else if (u_isalnum(c) && !(c >= 0x1F000))
		{
			if (prev == 1 || (prev == 2 && sep))
				appendStringInfoChar(&out, ' ');
			AppendCodePoint(&out, c);
			prev = 2;
			sep = false;
		}
		else
			sep = true;
	}
	return out.data;
}

/*
 * Canonical form of a UTF-8 string (normalise, then Canonical).
 */
static char *
CanonicalCString(const char *s, int len)
{
	int32		ulen;
	UChar	   *u = cdp_normalize_uchars(s, len, &ulen);
	char	   *r = Canonical(u, ulen);

	pfree(u);
	return r;
}

static int
CompareLengthDesc(const void *a, const void *b)
{
	return (int) strlen(*(char *const *) b) - (int) strlen(*(char *const *) a);
}

/*
 * Build a FormList from raw strings: canonicalise, keep the ones whose
 * script class (Han or not) is wanted, drop duplicates, sort longest first
 * so that the longest suffix or prefix wins.
 */
static void
BuildList(FormList *list, const char *const *raw, int n, int want_han)
{
	int			i,
				k = 0;

	list->items = MemoryContextAlloc(TopMemoryContext, sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		char	   *c = CanonicalCString(raw[i], strlen(raw[i]));
		bool		han;
		int			j;
		bool		dup = false;

		if (c[0] == '\0')
			continue;
		{
			UChar32		first;
			int32		off = 0;

			U8_NEXT(c, off, (int32) strlen(c), first);
			han = IsHan(first);
		}
		if (want_han >= 0 && han != (want_han == 1))
			continue;
		for (j = 0; j < k; j++)
			if (strcmp(list->items[j], c) == 0)
				dup = true;
		if (!dup)
			list->items[k++] = MemoryContextStrdup(TopMemoryContext, c);
	}
	qsort(list->items, k, sizeof(char *), CompareLengthDesc);
	list->lens = MemoryContextAlloc(TopMemoryContext, sizeof(int) * (k + 1));
	for (i = 0; i < k; i++)
		list->lens[i] = strlen(list->items[i]);
	list->n = k;
}

static FormList *sorting_list;

static int
CompareIndexEntries(const void *a, const void *b)
{
	int			ia = *(const int *) a;
	int			ib = *(const int *) b;
	UChar32		ka = sorting_list->idx_keys[ia];
	UChar32		kb = sorting_list->idx_keys[ib];

	if (ka != kb)
		return ka < kb ? -1 : 1;
	return sorting_list->lens[ib] - sorting_list->lens[ia];
}

/*
 * Index a list by its items' first (or, by_last, last) code point, so that
 * matching a prefix or suffix looks at the few items that can match instead
 * of all of them.
 */
static void
IndexList(FormList *list, bool by_last)
{
	UChar32    *keys = MemoryContextAlloc(TopMemoryContext, sizeof(UChar32) * (list->n + 1));
	UChar32    *sorted = MemoryContextAlloc(TopMemoryContext, sizeof(UChar32) * (list->n + 1));
	int		   *order = MemoryContextAlloc(TopMemoryContext, sizeof(int) * (list->n + 1));
	int			i;

	for (i = 0; i < list->n; i++)
	{
		int32		off = 0;
		UChar32		c;

		if (by_last)
		{
			off = list->lens[i];
			U8_PREV(list->items[i], 0, off, c);
		}
		else
			U8_NEXT(list->items[i], off, list->lens[i], c);
		keys[i] = c;
		order[i] = i;
	}
	list->idx_keys = keys;
	sorting_list = list;
	qsort(order, list->n, sizeof(int), CompareIndexEntries);
	for (i = 0; i < list->n; i++)
		sorted[i] = keys[order[i]];
	list->idx_keys = sorted;
	list->idx_items = order;
}

/* first position in the index of a list whose key is c, or -1 */
static int
IndexFind(const FormList *list, UChar32 c)
{
	int			lo = 0,
				hi = list->n;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (list->idx_keys[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < list->n && list->idx_keys[lo] == c) ? lo : -1;
}

/*
 * Normalise the word lists once per backend, with the same pipeline as the
 * names, so Traditional and width variants in the sources need no copies.
 */
static void
EnsureLists(void)
{
	const char **all;
	int			n1 = lengthof(elf_legal_forms),
				n2 = lengthof(extra_legal_forms);

	if (lists_ready)
		return;
	all = palloc(sizeof(char *) * (n1 + n2));
	memcpy(all, elf_legal_forms, sizeof(char *) * n1);
	memcpy(all + n1, extra_legal_forms, sizeof(char *) * n2);
	BuildList(&han_forms, all, n1 + n2, 1);
	BuildList(&latin_forms, all, n1 + n2, 0);
	{
		int			n3 = lengthof(province_names),
					n4 = lengthof(city_region_names);
		const char **r = palloc(sizeof(char *) * (n3 + n4));

		memcpy(r, province_names, sizeof(char *) * n3);
		memcpy(r + n3, city_region_names, sizeof(char *) * n4);
		BuildList(&regions, r, n3 + n4, 1);
	}
	BuildList(&industries, industry_words, lengthof(industry_words), 1);
	{
		int			n5 = lengthof(generic_latin_words),
					n6 = lengthof(city_pinyin_names);
		const char **g = palloc(sizeof(char *) * (n5 + n6));

		memcpy(g, generic_latin_words, sizeof(char *) * n5);
		memcpy(g + n5, city_pinyin_names, sizeof(char *) * n6);
		BuildList(&generic_words, g, n5 + n6, 0);
	}
	IndexList(&regions, false);
	IndexList(&han_forms, true);
	IndexList(&latin_forms, true);
	IndexList(&industries, true);
	lists_ready = true;
}

/*
 * Strip legal forms from the end of a canonical name, repeatedly
 * ("... co ltd" then nothing; "...有限公司" ), never down to nothing.
 */
static void
StripLegalForms(char *key)
{
	bool		changed = true;

	while (changed)
	{
		int			len = strlen(key);
		int32		off = len;
		UChar32		c;
		int			k;

		changed = false;
		if (len == 0)
			break;
		U8_PREV(key, 0, off, c);
		/* a name that is nothing but a legal form stays as it is */
		for (k = IndexFind(&han_forms, c); k >= 0 && k < han_forms.n && han_forms.idx_keys[k] == c; k++)
			if (strcmp(key, han_forms.items[han_forms.idx_items[k]]) == 0)
				return;
		for (k = IndexFind(&latin_forms, c); k >= 0 && k < latin_forms.n && latin_forms.idx_keys[k] == c; k++)
			if (strcmp(key, latin_forms.items[latin_forms.idx_items[k]]) == 0)
				return;
		for (k = IndexFind(&han_forms, c); !changed && k >= 0 && k < han_forms.n && han_forms.idx_keys[k] == c; k++)
		{
			int			item = han_forms.idx_items[k];
			int			fl = han_forms.lens[item];

			if (len > fl && memcmp(key + len - fl, han_forms.items[item], fl) == 0)
			{
				key[len - fl] = '\0';
				changed = true;
			}
		}
		for (k = IndexFind(&latin_forms, c); !changed && k >= 0 && k < latin_forms.n && latin_forms.idx_keys[k] == c; k++)
		{
			int			item = latin_forms.idx_items[k];
			int			fl = latin_forms.lens[item];

			if (len > fl + 1 && key[len - fl - 1] == ' ' &&
				memcmp(key + len - fl, latin_forms.items[item], fl) == 0)
			{
				key[len - fl - 1] = '\0';
				changed = true;
			}
		}
	}
}

/*
 * The key of a name, or NULL when nothing identifying is left (empty,
 * punctuation only, emoji only).
 */
static char *
CompanyKey(const char *s, int len)
{
	char	   *key;

	if (len > COMPANY_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("company name is too long"),
				 errdetail("The name has %d bytes, the limit is %d.", len, COMPANY_MAX_BYTES),
				 errhint("Pass the registered name only, not a description.")));
	EnsureLists();
	key = CanonicalCString(s, len);
	if (key[0] == '\0')
	{
		/* all inside brackets? then keep the bracketed words after all */
		int32		ulen;
		UChar	   *u = cdp_normalize_uchars(s, len, &ulen);
		int32		i;

		for (i = 0; i < ulen; i++)
			if (OpeningBracket(u[i]) || u[i] == ')' || u[i] == ']' || u[i] == '}' ||
				(u[i] >= 0x3008 && u[i] <= 0x3017))
				u[i] = ' ';
		key = Canonical(u, ulen);
		if (key[0] == '\0')
			return NULL;
	}
	StripLegalForms(key);
	return key;
}

/* ---------------------------------------------------------------------
 * Similarity
 * ---------------------------------------------------------------------
 */

/* a key taken apart for scoring */
typedef struct Parsed
{
	char	   *han;			/* Han characters of the key, in order */
	int			hanlen;			/* in bytes */
	int			body;			/* byte offset where the region ends */
	int			core_end;		/* byte offset where industry words begin */
	char	   *latin;			/* the non-Han words, space separated */
} Parsed;

static void
ParseKey(const char *key, Parsed *p)
{
	StringInfoData han,
				lat;
	int32		i = 0,
				len = strlen(key);
	bool		changed;

	initStringInfo(&han);
	initStringInfo(&lat);
	while (i < len)
	{
		UChar32		c;
		int32		at = i;

		U8_NEXT(key, i, len, c);
		if (c > 0 && IsHan(c))
			appendBinaryStringInfo(&han, key + at, i - at);
		else if (c == ' ')
		{
			if (lat.len > 0 && lat.data[lat.len - 1] != ' ')
				appendStringInfoChar(&lat, ' ');
		}
		else
			appendBinaryStringInfo(&lat, key + at, i - at);
	}
	while (lat.len > 0 && lat.data[lat.len - 1] == ' ')
		lat.data[--lat.len] = '\0';
	p->han = han.data;
	p->hanlen = han.len;
	p->latin = lat.data;

	/* leading region names, longest first, leaving at least two characters */
	p->body = 0;
	do
	{
		int32		off = p->body;
		UChar32		c;
		int			k;

		changed = false;
		if (off >= p->hanlen)
			break;
		U8_NEXT(p->han, off, p->hanlen, c);
		for (k = IndexFind(&regions, c); k >= 0 && k < regions.n && regions.idx_keys[k] == c; k++)
		{
			int			item = regions.idx_items[k];
			int			rl = regions.lens[item];

			if (p->hanlen - p->body >= rl + 6 &&
				memcmp(p->han + p->body, regions.items[item], rl) == 0)
			{
				p->body += rl;
				changed = true;
				break;
			}
		}
	} while (changed);

	/* trailing industry words, possibly down to nothing (中国银行) */
	p->core_end = p->hanlen;
	do
	{
		int32		off = p->core_end;
		UChar32		c;
		int			k;

		changed = false;
		if (off <= p->body)
			break;
		U8_PREV(p->han, 0, off, c);
		for (k = IndexFind(&industries, c); k >= 0 && k < industries.n && industries.idx_keys[k] == c; k++)
		{
			int			item = industries.idx_items[k];
			int			il = industries.lens[item];

			if (p->core_end - p->body >= il &&
				memcmp(p->han + p->core_end - il, industries.items[item], il) == 0)
			{
				p->core_end -= il;
				changed = true;
				break;
			}
		}
	} while (changed);
}

/* split a UTF-8 string into code points; returns the count */
static int
CodePoints(const char *s, int len, UChar32 *out)
{
	int32		i = 0;
	int			n = 0;

	while (i < len)
	{
		UChar32		c;

		U8_NEXT(s, i, len, c);
		out[n++] = c;
	}
	return n;
}

/*
 * Dice coefficient of the character bigram multisets of two strings
 * (unigrams when a string has a single character).
 */
static double
BigramDice(const char *a, int alen, const char *b, int blen)
{
	UChar32    *ca = palloc(sizeof(UChar32) * (alen + 1));
	UChar32    *cb = palloc(sizeof(UChar32) * (blen + 1));
	int			na = CodePoints(a, alen, ca);
	int			nb = CodePoints(b, blen, cb);
	int			ga,
				gb,
				shared = 0,
				i,
				j;
	bool	   *used;

	if (na == 0 || nb == 0)
		return 0.0;
	if (na == 1 || nb == 1)
	{
		/* unigram overlap */
		used = palloc0(sizeof(bool) * nb);
		for (i = 0; i < na; i++)
			for (j = 0; j < nb; j++)
				if (!used[j] && ca[i] == cb[j])
				{
					used[j] = true;
					shared++;
					break;
				}
		return 2.0 * shared / (na + nb);
	}
	ga = na - 1;
	gb = nb - 1;
	used = palloc0(sizeof(bool) * gb);
	for (i = 0; i < ga; i++)
		for (j = 0; j < gb; j++)
			if (!used[j] && ca[i] == cb[j] && ca[i + 1] == cb[j + 1])
			{
				used[j] = true;
				shared++;
				break;
			}
	return 2.0 * shared / (ga + gb);
}

/*
 * Is needle (bytes of whole characters) a character subsequence of hay,
 * with at most three characters skipped between two matched ones (浦发 in
 * 浦东发展, not 启程 in 启弘电力工程)?  Each character is matched at its first
 * occurrence after the previous match.
 */
static bool
IsSubsequence(const char *needle, int nlen, const char *hay, int hlen)
{
	int32		i = 0,
				j = 0;
	bool		first = true;

	while (i < nlen)
	{
		UChar32		c,
					d = -1;
		int			skipped = 0;

		U8_NEXT(needle, i, nlen, c);
		while (j < hlen)
		{
			U8_NEXT(hay, j, hlen, d);
			if (d == c)
				break;
			skipped++;
		}
		if (d != c || (!first && skipped > 3))
			return false;
		first = false;
	}
	return true;
}

static int
CharCount(const char *s, int len)
{
	int			n = 0,
				i;

	for (i = 0; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

static bool
ContainsBytes(const char *hay, int hlen, const char *needle, int nlen)
{
	int			i;

	if (nlen == 0)
		return true;
	for (i = 0; i + nlen <= hlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return true;
	return false;
}

/* corporate words that say nothing about the business */
static const char *const generic_industry_words[] = {
	"股份", "集团", "控股", "实业", "发展", "国际",
};

/*
 * Does industry text ind (UTF-8 Han) agree with text other?  Generic
 * corporate words are ignored (伊利股份 and 伊利实业集团); what is left must
 * share a character with other (味业 and 调味食品 share 味; 银行 and
 * 幸福基业 share none).  Empty or generic-only ind agrees with anything.
 */
static bool
IndustryAgrees(const char *ind, int len, const char *other, int olen)
{
	int32		i = 0;
	bool		any = false;

	while (i < len)
	{
		UChar32		c;
		int32		at = i;
		bool		generic = false;
		int			k;

		for (k = 0; k < lengthof(generic_industry_words); k++)
		{
			int			gl = strlen(generic_industry_words[k]);

			if (len - at >= gl && memcmp(ind + at, generic_industry_words[k], gl) == 0)
			{
				i = at + gl;
				generic = true;
				break;
			}
		}
		if (generic)
			continue;
		U8_NEXT(ind, i, len, c);
		any = true;
		if (ContainsBytes(other, olen, ind + at, i - at))
			return true;
	}
	return !any;
}

/*
 * Short-name rule, one direction: x is the short form (简称) of y when x's
 * core (two characters at least) appears in order in y's body.  Scaled by
 * the share of y's core it covers; capped when x names an industry y does
 * not mention.  Conflicting regions are handled by the caller.
 */
static double
ShortNameScore(const Parsed *x, const Parsed *y)
{
	int			xcore = x->core_end - x->body;
	int			ycore = y->core_end - y->body;
	int			xc,
				yc,
				xind,
				tend,
				ystart;
	bool		matched;
	double		s;

	if (xcore <= 0 || CharCount(x->han + x->body, xcore) < 2)
		return 0.0;
	/*
	 * When both end in x's industry words, x's brand must be found before
	 * them (盛科科技 is not a short form of 盛远科技, though 盛科 is a
	 * subsequence of 盛远科技).
	 */
	xind = x->hanlen - x->core_end;
	tend = y->hanlen;
	if (xind > 0 && tend - y->body >= xind &&
		memcmp(y->han + tend - xind, x->han + x->core_end, xind) == 0)
		tend -= xind;
	/*
	 * A short name without region may open with the first character of the
	 * other's region (上汽 for 上海汽车); otherwise it is matched after the
	 * region.
	 */
	ystart = y->body;
	matched = false;
	if (x->body == 0 && y->body > 0)
	{
		/* x's first character opens y's region: the rest follows it */
		int32		xi = 0,
					yi = 0;
		UChar32		xc0,
					yc0;

		U8_NEXT(x->han, xi, xcore, xc0);
		U8_NEXT(y->han, yi, y->body, yc0);
		if (xc0 == yc0 &&
			IsSubsequence(x->han + xi, xcore - xi, y->han + y->body, tend - y->body))
		{
			ystart = 0;
			matched = true;
		}
	}
	if (!matched &&
		!IsSubsequence(x->han + x->body, xcore, y->han + ystart, tend - ystart))
		return 0.0;
	xc = CharCount(x->han + x->body, xcore);
	yc = Max(CharCount(y->han + y->body, Max(ycore, 0)), xc);
	s = 0.6 + 0.4 * (double) xc / yc;
	if (ContainsBytes(y->han + ystart, tend - ystart, x->han + x->body, xcore))
		s += 0.1;
	/* the industry x names must be y's as well */
	if (!IndustryAgrees(x->han + x->core_end, x->hanlen - x->core_end,
						y->han + y->body, y->hanlen - y->body))
		s = Min(s, 0.5);
	return Min(s, 1.0);
}

/*
 * Do the first two characters of the two cores have one in common?
 */
static bool
SharedHead(const Parsed *x, const Parsed *y)
{
	UChar32		hx[2],
				hy[2];
	int32		i = 0,
				j = 0;
	int			nx = 0,
				ny = 0;

	while (nx < 2 && i < x->core_end - x->body)
	{
		UChar32		c;

		U8_NEXT(x->han + x->body, i, x->core_end - x->body, c);
		hx[nx++] = c;
	}
	while (ny < 2 && j < y->core_end - y->body)
	{
		UChar32		c;

		U8_NEXT(y->han + y->body, j, y->core_end - y->body, c);
		hy[ny++] = c;
	}
	for (i = 0; i < nx; i++)
		for (j = 0; j < ny; j++)
			if (hx[i] == hy[j])
				return true;
	return false;
}

/*
 * Both names open with a region and the regions differ (北京华远科技 and
 * 上海华远科技 are two registrations): then they are not the same company,
 * however alike the rest.  A province and a city in it do not conflict
 * (广东深圳 and 深圳): one region string containing the other's first
 * region word is agreement.
 */
static bool
RegionsConflict(const Parsed *x, const Parsed *y)
{
	if (x->body == 0 || y->body == 0)
		return false;
	if (x->body == y->body && memcmp(x->han, y->han, x->body) == 0)
		return false;
	/* two characters (6 bytes) identify a province or city */
	if (ContainsBytes(y->han, y->body, x->han, Min(x->body, 6)) ||
		ContainsBytes(x->han, x->body, y->han, Min(y->body, 6)))
		return false;
	return true;
}

/*
 * Both names end in industry words that do not agree (IndustryAgrees:
 * 华远科技 and 华远贸易): two companies of one brand family at most.
 */
static bool
IndustriesConflict(const Parsed *x, const Parsed *y)
{
	int			xl = x->hanlen - x->core_end;
	int			yl = y->hanlen - y->core_end;

	/* generic-only words (集团, 股份) agree with anything */
	if (xl == 0 || yl == 0 ||
		IndustryAgrees(x->han + x->core_end, xl, "", 0) ||
		IndustryAgrees(y->han + y->core_end, yl, "", 0))
		return false;
	return !IndustryAgrees(x->han + x->core_end, xl, y->han + y->core_end, yl) ||
		!IndustryAgrees(y->han + y->core_end, yl, x->han + x->core_end, xl);
}

/* trigram similarity of two word strings, pg_trgm style (padded words) */
static double
TrigramSimilarity(const char *a, const char *b)
{
	StringInfoData pa,
				pb;
	UChar32    *ca,
			   *cb;
	int			na,
				nb,
				i,
				j,
				shared = 0,
				ta = 0,
				tb = 0;
	bool	   *used;

	initStringInfo(&pa);
	initStringInfo(&pb);
	appendStringInfo(&pa, "  %s ", a);
	appendStringInfo(&pb, "  %s ", b);
	/* pad each word: "  w1  w2 " gives the same trigrams as pg_trgm */
	for (i = 0; pa.data[i]; i++);
	ca = palloc(sizeof(UChar32) * (pa.len * 2 + 4));
	cb = palloc(sizeof(UChar32) * (pb.len * 2 + 4));
	{
		UChar32    *tmp = palloc(sizeof(UChar32) * (pa.len + 1));
		int			n = CodePoints(pa.data, pa.len, tmp);

		na = 0;
		for (i = 0; i < n; i++)
		{
			ca[na++] = tmp[i];
			if (tmp[i] == ' ' && i > 1 && i < n - 1)
			{
				ca[na++] = ' ';
				ca[na++] = ' ';
			}
		}
		tmp = palloc(sizeof(UChar32) * (pb.len + 1));
		n = CodePoints(pb.data, pb.len, tmp);
		nb = 0;
		for (i = 0; i < n; i++)
		{
			cb[nb++] = tmp[i];
			if (tmp[i] == ' ' && i > 1 && i < n - 1)
			{
				cb[nb++] = ' ';
				cb[nb++] = ' ';
			}
		}
	}
	/* trigrams that span a word gap ("x   y") are not trigrams of words */
#define VALID3(c, k) (!((c)[k+1] == ' ' && (c)[k+2] == ' ') && !((c)[k] == ' ' && (c)[k+1] == ' ' && (c)[k+2] == ' '))
	used = palloc0(sizeof(bool) * Max(nb, 1));
	for (j = 0; j + 2 < nb; j++)
		if (VALID3(cb, j))
			tb++;
	for (i = 0; i + 2 < na; i++)
	{
		if (!VALID3(ca, i))
			continue;
		ta++;
		for (j = 0; j + 2 < nb; j++)
			if (!used[j] && VALID3(cb, j) && ca[i] == cb[j] &&
				ca[i + 1] == cb[j + 1] && ca[i + 2] == cb[j + 2])
			{
				used[j] = true;
				shared++;
				break;
			}
	}
	if (ta + tb - shared <= 0)
		return 0.0;
	return (double) shared / (ta + tb - shared);
}

static bool
IsGenericWord(const char *w, int len)
{
	int			k;

	for (k = 0; k < generic_words.n; k++)
		if (generic_words.lens[k] == len && memcmp(generic_words.items[k], w, len) == 0)
			return true;
	return false;
}

/*
 * Latin names: trigram similarity, lifted when both share a distinctive
 * word of three characters or more (the brand: "bridgestone", "basf").
 */
static double
LatinScore(const char *a, const char *b)
{
	double		t = TrigramSimilarity(a, b);
	const char *p = a;

	if (strcmp(a, b) == 0)
		return 1.0;
	while (*p)
	{
		const char *e = strchr(p, ' ');
		int			wl = e ? e - p : (int) strlen(p);

		if (wl >= 3 && !IsGenericWord(p, wl))
		{
			const char *q = b;

			while (*q)
			{
				const char *f = strchr(q, ' ');
				int			ql = f ? f - q : (int) strlen(q);

				if (ql == wl && memcmp(p, q, wl) == 0)
					return Max(t, 0.6 + 0.4 * t);
				q += ql;
				while (*q == ' ')
					q++;
			}
		}
		p += wl;
		while (*p == ' ')
			p++;
	}
	return t;
}

/* letters only, spaces removed */
static char *
Compact(const char *s)
{
	char	   *r = palloc(strlen(s) + 1),
			   *o = r;

	for (; *s; s++)
		if (*s != ' ')
			*o++ = *s;
	*o = '\0';
	return r;
}

/*
 * A Latin name against a Han name: compare with the toneless pinyin of the
 * Han name (whole, or its core for a brand written alone), and with its
 * pinyin initials when the Latin name is one short word.
 */
static double
PinyinScore(const Parsed *lat, const Parsed *han)
{
	char	   *l = Compact(lat->latin);
	int			ll = strlen(l);
	char	   *whole = Compact(cdp_pinyin_cstring(han->han, han->hanlen, false));
	char	   *body = Compact(cdp_pinyin_cstring(han->han + han->body, han->hanlen - han->body, false));
	double		s;

	if (ll == 0)
		return 0.0;
	s = BigramDice(l, ll, whole, strlen(whole));
	s = Max(s, BigramDice(l, ll, body, strlen(body)));
	if (han->core_end > han->body)
	{
		char	   *core = Compact(cdp_pinyin_cstring(han->han + han->body, han->core_end - han->body, false));
		int			cl = strlen(core);

		if (cl >= 4 && ContainsBytes(l, ll, core, cl))
			s = Max(s, 0.7 + 0.3 * (double) cl / Max(ll, cl));
		/* the brand's first syllables alone (Baidu for 百度网讯) */
		else if (ll >= 4 && ll < cl && strncmp(core, l, ll) == 0)
			s = Max(s, 0.6 + 0.4 * (double) ll / cl);
	}
	if (ll >= 3 && strchr(lat->latin, ' ') == NULL)
	{
		char	   *ini = cdp_pinyin_cstring(han->han, han->hanlen, true);
		char	   *bini = cdp_pinyin_cstring(han->han + han->body, han->hanlen - han->body, true);

		if (strcmp(ini, l) == 0 || strcmp(bini, l) == 0)
			s = Max(s, 0.7);
	}
	return Min(s, 1.0);
}

/*
 * Similarity of two keys, in [0, 1], symmetric.
 */
static double
KeySimilarity(const char *ka, const char *kb)
{
	Parsed		a,
				b;
	double		sh = 0.0;

	if (strcmp(ka, kb) == 0)
		return 1.0;
	ParseKey(ka, &a);
	ParseKey(kb, &b);
	if (a.hanlen > 0 && b.hanlen > 0)
	{
		/*
		 * Shared region and industry words are no evidence: when both
		 * names have a brand, compare the brands (北京华安科技 and 北京华远科技
		 * share five of six characters but no brand bigram).
		 */
		if (a.core_end > a.body && b.core_end > b.body)
		{
			sh = BigramDice(a.han + a.body, a.core_end - a.body,
							b.han + b.body, b.core_end - b.body);
			/*
			 * A brand opens the core: when the first two characters of the
			 * cores have none in common, what they share is descriptive
			 * words the industry list lacks (创新汽车配套 and 博远汽车配套).
			 */
			if (!SharedHead(&a, &b))
				sh = Min(sh, 0.5);
		}
		else
			sh = BigramDice(a.han, a.hanlen, b.han, b.hanlen);
		sh = Max(sh, ShortNameScore(&a, &b));
		sh = Max(sh, ShortNameScore(&b, &a));
		if (RegionsConflict(&a, &b) || IndustriesConflict(&a, &b))
			sh = Min(sh, 0.5);
		if (a.latin[0] && b.latin[0])
			sh = (sh + LatinScore(a.latin, b.latin)) / 2;
		else if (a.latin[0] || b.latin[0])
			sh *= 0.9;			/* a Latin word on one side only */
		return sh;
	}
	if (a.hanlen == 0 && b.hanlen == 0)
		return LatinScore(a.latin, b.latin);
	return a.hanlen == 0 ? PinyinScore(&a, &b) : PinyinScore(&b, &a);
}

/*
 * Similarity of two names (NULL keys score 0).
 */
static double
NameSimilarity(text *a, text *b)
{
	char	   *ka = CompanyKey(VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a));
	char	   *kb = CompanyKey(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
	double		s;

	if (ka == NULL || kb == NULL)
		return 0.0;
	s = KeySimilarity(ka, kb);
	return Max(0.0, Min(1.0, s));
}

/*
 * cdp.company_key(name): canonical form, NULL when nothing identifying.
 */
PG_FUNCTION_INFO_V1(cdp_company_key);
Datum
cdp_company_key(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char	   *k = CompanyKey(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));

	if (k == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(k));
}

/*
 * cdp.company_key_similarity(key, key): similarity of two keys already
 * computed (match_accounts scores index candidates by their stored key).
 */
PG_FUNCTION_INFO_V1(cdp_company_key_similarity);
Datum
cdp_company_key_similarity(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);

	EnsureLists();
	PG_RETURN_FLOAT4((float4) Max(0.0, Min(1.0, KeySimilarity(text_to_cstring(a), text_to_cstring(b)))));
}

/*
 * cdp.company_similarity(a, b).
 */
PG_FUNCTION_INFO_V1(cdp_company_similarity);
Datum
cdp_company_similarity(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT4((float4) NameSimilarity(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1)));
}

/*
 * cdp.company_match(a, b): similarity at or above the threshold.
 */
PG_FUNCTION_INFO_V1(cdp_company_match);
Datum
cdp_company_match(PG_FUNCTION_ARGS)
{
	double		s = NameSimilarity(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1));

	PG_RETURN_BOOL((float4) s >= (float4) company_match_threshold);
}

/*
 * Module initialisation: the threshold GUC.
 */
void
cdp_company_init(void)
{
	DefineCustomRealVariable("cdp.company_match_threshold",
							 "Similarity at which cdp.company_match and lead matching accept two company names as the same company.",
							 "Between 0 and 1; the default was tuned on the development data (see README).",
							 &company_match_threshold,
							 0.6, 0.0, 1.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
}

/*
 * cdp_company_match_threshold: the current threshold, for the SQL side.
 */
PG_FUNCTION_INFO_V1(cdp_company_threshold);
Datum
cdp_company_threshold(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT4((float4) company_match_threshold);
}

/*
 * Search key of a key: the words a trigram index should find a company by.
 * Region and industry words are shared by thousands of names and would make
 * every probe return half the table, so only the distinctive part goes in:
 * the core (字号) of the Han part as overlapping character bigrams
 * (三一重工 -> "三一 一重"), and the Latin words that are not generic.  When
 * nothing distinctive is left (中国银行), the body or the whole Han part
 * stands in.  The pinyin of the core has an index of its own (PinyinKey).
 */
static char *
SearchKey(const char *key)
{
	Parsed		p;
	StringInfoData out;
	const char *h;
	int			hl;

	ParseKey(key, &p);
	initStringInfo(&out);
	if (p.core_end > p.body)
	{
		h = p.han + p.body;
		hl = p.core_end - p.body;
	}
	else if (p.hanlen > p.body)
	{
		h = p.han + p.body;
		hl = p.hanlen - p.body;
	}
	else
	{
		h = p.han;
		hl = p.hanlen;
	}
	if (hl > 0)
	{
		UChar32    *cp = palloc(sizeof(UChar32) * (hl + 1));
		int			n = CodePoints(h, hl, cp);
		int			i;

		if (n == 1)
			AppendCodePoint(&out, cp[0]);
		for (i = 0; i + 1 < n; i++)
		{
			if (out.len)
				appendStringInfoChar(&out, ' ');
			AppendCodePoint(&out, cp[i]);
			AppendCodePoint(&out, cp[i + 1]);
		}
	}
	{
		const char *w = p.latin;
		int			start = out.len;
		bool		any = false;

		/* two passes: distinctive words, else all words */
		for (int pass = 0; pass < 2 && !any; pass++)
		{
			w = p.latin;
			out.len = start;
			out.data[start] = '\0';
			while (*w)
			{
				const char *e = strchr(w, ' ');
				int			wl = e ? e - w : (int) strlen(w);

				if (pass == 1 || !IsGenericWord(w, wl))
				{
					if (out.len)
						appendStringInfoChar(&out, ' ');
					appendBinaryStringInfo(&out, w, wl);
					any = true;
				}
				w += wl;
				while (*w == ' ')
					w++;
			}
		}
	}
	return out.data;
}

/*
 * cdp.company_search_key(name): what the trigram index on cdp.account holds.
 */
PG_FUNCTION_INFO_V1(cdp_company_search_key);
Datum
cdp_company_search_key(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char	   *k = CompanyKey(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));

	if (k == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(SearchKey(k)));
}

/*
 * Pinyin key of a key: the toneless pinyin of its Han core written as one
 * word (贵州茅台酒 -> "maotai"), NULL when the name has no Han part.  A
 * second trigram index on cdp.account holds it, so that a name written in
 * pinyin finds the account registered in Han.
 */
static char *
PinyinKey(const char *key)
{
	Parsed		p;
	const char *h;
	int			hl;

	ParseKey(key, &p);
	if (p.hanlen == 0)
		return NULL;
	if (p.core_end > p.body)
	{
		h = p.han + p.body;
		hl = p.core_end - p.body;
	}
	else
	{
		h = p.han + p.body;
		hl = p.hanlen - p.body;
		if (hl == 0)
		{
			h = p.han;
			hl = p.hanlen;
		}
	}
	return Compact(cdp_pinyin_cstring(h, hl, false));
}

/*
 * cdp.company_pinyin_key(name): what the pinyin index on cdp.account holds.
 */
PG_FUNCTION_INFO_V1(cdp_company_pinyin_key);
Datum
cdp_company_pinyin_key(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char	   *k = CompanyKey(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	char	   *p;

	if (k == NULL || (p = PinyinKey(k)) == NULL || p[0] == '\0')
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(p));
}
