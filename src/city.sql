\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- city.sql: canonical Chinese cities (cdp.city_key) on reference data derived
-- from ../shared/data/cn_cities.csv (GB/T 2260 prefecture-level divisions).
--
-- cdp.city holds one row per division; cdp.city_alias every spelling that
-- names one: the full name (广州市), the short name (广州), the pinyin of the
-- source (guangzhou, spaces and apostrophes dropped) and the abbreviation made
-- of pinyin initials (gz).  Initials come from ICU's Han-Latin reading of the
-- short name, except the first letter, which is taken from the source pinyin
-- because ICU reads some place names with the wrong polyphone (长沙 "zhang
-- sha", 厦门 "sha men"); that keeps CS and XM right.
--
-- An alias shared by several divisions (collision) resolves to the only
-- provincial capital or municipality among them (code ending in 0100: GZ is
-- 广州, not 赣州; fuzhou is 福州, not 抚州); when there is none or more than one,
-- the alias is kept with city_code NULL and city_key returns NULL for it
-- (SZ: 深圳, 苏州, 宿州, 随州, 朔州 ...): unknown or ambiguous input is never
-- guessed.  cdp.city_alias.candidates lists the divisions an alias collides on.

CREATE TABLE @extschema@.city (
    city_code text PRIMARY KEY CHECK (city_code ~ '^[0-9]{6}$'),
    name text NOT NULL UNIQUE,
    short_name text NOT NULL,
    province_code text NOT NULL CHECK (province_code ~ '^[0-9]{2}0000$'),
    pinyin text NOT NULL,
    phone_area_code text,
    builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.city IS 'Chinese prefecture-level cities and divisions (地级行政区), from GB/T 2260 via cn_cities.csv; reference data for cdp.city_key';
COMMENT ON COLUMN @extschema@.city.city_code IS 'GB/T 2260 division code, e.g. 440100';
COMMENT ON COLUMN @extschema@.city.name IS 'Official name, e.g. 广州市; what cdp.city_key returns';
COMMENT ON COLUMN @extschema@.city.short_name IS 'Short name, e.g. 广州';
COMMENT ON COLUMN @extschema@.city.province_code IS 'Code of the province-level division, e.g. 440000';
COMMENT ON COLUMN @extschema@.city.pinyin IS 'Romanised name as in the source, e.g. Guangzhou, Hohhot';
COMMENT ON COLUMN @extschema@.city.phone_area_code IS 'Telephone area code, e.g. 020';
COMMENT ON COLUMN @extschema@.city.builtin IS 'true for the rows shipped with cdp; pg_dump keeps only the others';

-- BEGIN generated city rows (tools/gen-company-data.py)
INSERT INTO @extschema@.city (city_code, name, short_name, province_code, pinyin, phone_area_code) VALUES
    ('110100', '北京市', '北京', '110000', 'Beijing', '010'),
    ('120100', '天津市', '天津', '120000', 'Tianjin', '022'),
    ('130100', '石家庄市', '石家庄', '130000', 'Shijiazhuang', '0311'),
    ('130200', '唐山市', '唐山', '130000', 'Tangshan', '0315'),
    ('130300', '秦皇岛市', '秦皇岛', '130000', 'Qinhuangdao', '0335'),
    ('130400', '邯郸市', '邯郸', '130000', 'Handan', '0310'),
    ('130500', '邢台市', '邢台', '130000', 'Xingtai', '0319'),
    ('130600', '保定市', '保定', '130000', 'Baoding', '0312'),
    ('130700', '张家口市', '张家口', '130000', 'Zhangjiakou', '0313'),
    ('130800', '承德市', '承德', '130000', 'Chengde', '0314'),
    ('130900', '沧州市', '沧州', '130000', 'Cangzhou', '0317'),
    ('131000', '廊坊市', '廊坊', '130000', 'Langfang', '0316'),
    ('131100', '衡水市', '衡水', '130000', 'Hengshui', '0318'),
    ('140100', '太原市', '太原', '140000', 'Taiyuan', '0351'),
    ('140200', '大同市', '大同', '140000', 'Datong', '0352'),
    ('140300', '阳泉市', '阳泉', '140000', 'Yangquan', '0353'),
    ('140400', '长治市', '长治', '140000', 'Changzhi', '0355'),
    ('140500', '晋城市', '晋城', '140000', 'Jincheng', '0356'),
    ('140600', '朔州市', '朔州', '140000', 'Shuozhou', '0349'),
    ('140700', '晋中市', '晋中', '140000', 'Jinzhong', '0354'),
    ('140800', '运城市', '运城', '140000', 'Yuncheng', '0359'),
    ('140900', '忻州市', '忻州', '140000', 'Xinzhou', '0350'),
    ('141000', '临汾市', '临汾', '140000', 'Linfen', '0357'),
    ('141100', '吕梁市', '吕梁', '140000', 'Lvliang', '0358'),
    ('150100', '呼和浩特市', '呼和浩特', '150000', 'Hohhot', '0471'),
    ('150200', '包头市', '包头', '150000', 'Baotou', '0472'),
    ('150300', '乌海市', '乌海', '150000', 'Wuhai', '0473'),
    ('150400', '赤峰市', '赤峰', '150000', 'Chifeng', '0476'),
    ('150500', '通辽市', '通辽', '150000', 'Tongliao', '0475'),
    ('150600', '鄂尔多斯市', '鄂尔多斯', '150000', 'Ordos', '0477'),
    ('150700', '呼伦贝尔市', '呼伦贝尔', '150000', 'Hulunber', '0470'),
    ('150800', '巴彦淖尔市', '巴彦淖尔', '150000', 'Bayan Nur', '0478'),
    ('150900', '乌兰察布市', '乌兰察布', '150000', 'Ulanqab', '0474'),
    ('152200', '兴安盟', '兴安盟', '150000', 'Hinggan', '0482'),
    ('152500', '锡林郭勒盟', '锡林郭勒盟', '150000', 'Xilin Gol', '0479'),
    ('152900', '阿拉善盟', '阿拉善盟', '150000', 'Alxa', '0483'),
    ('210100', '沈阳市', '沈阳', '210000', 'Shenyang', '024'),
    ('210200', '大连市', '大连', '210000', 'Dalian', '0411'),
    ('210300', '鞍山市', '鞍山', '210000', 'Anshan', '0412'),
    ('210400', '抚顺市', '抚顺', '210000', 'Fushun', '024'),
    ('210500', '本溪市', '本溪', '210000', 'Benxi', '0414'),
    ('210600', '丹东市', '丹东', '210000', 'Dandong', '0415'),
    ('210700', '锦州市', '锦州', '210000', 'Jinzhou', '0416'),
    ('210800', '营口市', '营口', '210000', 'Yingkou', '0417'),
    ('210900', '阜新市', '阜新', '210000', 'Fuxin', '0418'),
    ('211000', '辽阳市', '辽阳', '210000', 'Liaoyang', '0419'),
    ('211100', '盘锦市', '盘锦', '210000', 'Panjin', '0427'),
    ('211200', '铁岭市', '铁岭', '210000', 'Tieling', '024'),
    ('211300', '朝阳市', '朝阳', '210000', 'Chaoyang', '0421'),
    ('211400', '葫芦岛市', '葫芦岛', '210000', 'Huludao', '0429'),
    ('211500', '金普新区', '金普新区', '210000', 'Jinpuxinqu', '0411'),
    ('220100', '长春市', '长春', '220000', 'Changchun', '0431'),
    ('220200', '吉林市', '吉林', '220000', 'Jilin', '0432'),
    ('220300', '四平市', '四平', '220000', 'Siping', '0434'),
    ('220400', '辽源市', '辽源', '220000', 'Liaoyuan', '0437'),
    ('220500', '通化市', '通化', '220000', 'Tonghua', '0435'),
    ('220600', '白山市', '白山', '220000', 'Baishan', '0439'),
    ('220700', '松原市', '松原', '220000', 'Songyuan', '0438'),
    ('220800', '白城市', '白城', '220000', 'Baicheng', '0436'),
    ('222400', '延边朝鲜族自治州', '延边', '220000', 'Yanbian', '0433'),
    ('230100', '哈尔滨市', '哈尔滨', '230000', 'Harbin', '0451'),
    ('230200', '齐齐哈尔市', '齐齐哈尔', '230000', 'Qiqihar', '0452'),
    ('230300', '鸡西市', '鸡西', '230000', 'Jixi', '0467'),
    ('230400', '鹤岗市', '鹤岗', '230000', 'Hegang', '0468'),
    ('230500', '双鸭山市', '双鸭山', '230000', 'Shuangyashan', '0469'),
    ('230600', '大庆市', '大庆', '230000', 'Daqing', '0459'),
    ('230700', '伊春市', '伊春', '230000', 'Yichun', '0458'),
    ('230800', '佳木斯市', '佳木斯', '230000', 'Jiamusi', '0454'),
    ('230900', '七台河市', '七台河', '230000', 'Qitaihe', '0464'),
    ('231000', '牡丹江市', '牡丹江', '230000', 'Mudanjiang', '0453'),
    ('231100', '黑河市', '黑河', '230000', 'Heihe', '0456'),
    ('231200', '绥化市', '绥化', '230000', 'Suihua', '0455'),
    ('232700', '大兴安岭地区', '大兴安岭', '230000', 'DaXingAnLing', '0457'),
    ('310100', '上海市', '上海', '310000', 'Shanghai', '021'),
    ('320100', '南京市', '南京', '320000', 'Nanjing', '025'),
    ('320200', '无锡市', '无锡', '320000', 'Wuxi', '0510'),
    ('320300', '徐州市', '徐州', '320000', 'Xuzhou', '0516'),
    ('320400', '常州市', '常州', '320000', 'Changzhou', '0519'),
    ('320500', '苏州市', '苏州', '320000', 'Suzhou', '0512'),
    ('320600', '南通市', '南通', '320000', 'Nantong', '0513'),
    ('320700', '连云港市', '连云港', '320000', 'Lianyungang', '0518'),
    ('320800', '淮安市', '淮安', '320000', 'Huai''an', '0517'),
    ('320900', '盐城市', '盐城', '320000', 'Yancheng', '0515'),
    ('321000', '扬州市', '扬州', '320000', 'Yangzhou', '0514'),
    ('321100', '镇江市', '镇江', '320000', 'Zhenjiang', '0511'),
    ('321200', '泰州市', '泰州', '320000', 'Taizhou', '0523'),
    ('321300', '宿迁市', '宿迁', '320000', 'Suqian', '0527'),
    ('330100', '杭州市', '杭州', '330000', 'Hangzhou', '0571'),
    ('330200', '宁波市', '宁波', '330000', 'Ningbo', '0574'),
    ('330300', '温州市', '温州', '330000', 'Wenzhou', '0577'),
    ('330400', '嘉兴市', '嘉兴', '330000', 'Jiaxing', '0573'),
    ('330500', '湖州市', '湖州', '330000', 'Huzhou', '0572'),
    ('330600', '绍兴市', '绍兴', '330000', 'Shaoxing', '0575'),
    ('330700', '金华市', '金华', '330000', 'Jinhua', '0579'),
    ('330800', '衢州市', '衢州', '330000', 'Quzhou', '0570'),
    ('330900', '舟山市', '舟山', '330000', 'Zhoushan', '0580'),
    ('331000', '台州市', '台州', '330000', 'Taizhou', '0576'),
    ('331100', '丽水市', '丽水', '330000', 'Lishui', '0578'),
    ('331200', '舟山群岛新区', '舟山新区', '330000', 'Zhoushan', '0580'),
    ('340100', '合肥市', '合肥', '340000', 'Hefei', '0551'),
    ('340200', '芜湖市', '芜湖', '340000', 'Wuhu', '0551'),
    ('340300', '蚌埠市', '蚌埠', '340000', 'Bengbu', '0552'),
    ('340400', '淮南市', '淮南', '340000', 'Huainan', '0554'),
    ('340500', '马鞍山市', '马鞍山', '340000', 'Ma''anshan', '0555'),
    ('340600', '淮北市', '淮北', '340000', 'Huaibei', '0561'),
    ('340700', '铜陵市', '铜陵', '340000', 'Tongling', '0562'),
    ('340800', '安庆市', '安庆', '340000', 'Anqing', '0556'),
    ('341000', '黄山市', '黄山', '340000', 'Huangshan', '0559'),
    ('341100', '滁州市', '滁州', '340000', 'Chuzhou', '0550'),
    ('341200', '阜阳市', '阜阳', '340000', 'Fuyang', '0558'),
    ('341300', '宿州市', '宿州', '340000', 'Suzhou', '0557'),
    ('341500', '六安市', '六安', '340000', 'Lu''an', '0564'),
    ('341600', '亳州市', '亳州', '340000', 'Bozhou', '0558'),
    ('341700', '池州市', '池州', '340000', 'Chizhou', '0566'),
    ('341800', '宣城市', '宣城', '340000', 'Xuancheng', '0563'),
    ('350100', '福州市', '福州', '350000', 'Fuzhou', '0591'),
    ('350200', '厦门市', '厦门', '350000', 'Xiamen', '0592'),
    ('350300', '莆田市', '莆田', '350000', 'Putian', '0594'),
    ('350400', '三明市', '三明', '350000', 'Sanming', '0598'),
    ('350500', '泉州市', '泉州', '350000', 'Quanzhou', '0595'),
    ('350600', '漳州市', '漳州', '350000', 'Zhangzhou', '0596'),
    ('350700', '南平市', '南平', '350000', 'Nanping', '0599'),
    ('350800', '龙岩市', '龙岩', '350000', 'Longyan', '0597'),
    ('350900', '宁德市', '宁德', '350000', 'Ningde', '0593'),
    ('360100', '南昌市', '南昌', '360000', 'Nanchang', '0791'),
    ('360200', '景德镇市', '景德镇', '360000', 'Jingdezhen', '0798'),
    ('360300', '萍乡市', '萍乡', '360000', 'Pingxiang', '0799'),
    ('360400', '九江市', '九江', '360000', 'Jiujiang', '0792'),
    ('360500', '新余市', '新余', '360000', 'Xinyu', '0790'),
    ('360600', '鹰潭市', '鹰潭', '360000', 'Yingtan', '0701'),
    ('360700', '赣州市', '赣州', '360000', 'Ganzhou', '0797'),
    ('360800', '吉安市', '吉安', '360000', 'Ji''an', '0796'),
    ('360900', '宜春市', '宜春', '360000', 'Yichun', '0795'),
    ('361000', '抚州市', '抚州', '360000', 'Fuzhou', '0794'),
    ('361100', '上饶市', '上饶', '360000', 'Shangrao', '0793'),
    ('370100', '济南市', '济南', '370000', 'Jinan', '0531'),
    ('370200', '青岛市', '青岛', '370000', 'Qingdao', '0532'),
    ('370300', '淄博市', '淄博', '370000', 'Zibo', '0533'),
    ('370400', '枣庄市', '枣庄', '370000', 'Zaozhuang', '0632'),
    ('370500', '东营市', '东营', '370000', 'Dongying', '0546'),
    ('370600', '烟台市', '烟台', '370000', 'Yantai', '0535'),
    ('370700', '潍坊市', '潍坊', '370000', 'Weifang', '0536'),
    ('370800', '济宁市', '济宁', '370000', 'Jining', '0537'),
    ('370900', '泰安市', '泰安', '370000', 'Tai''an', '0538'),
    ('371000', '威海市', '威海', '370000', 'Weihai', '0631'),
    ('371100', '日照市', '日照', '370000', 'Rizhao', '0633'),
    ('371200', '莱芜市', '莱芜', '370000', 'Laiwu', '0634'),
    ('371300', '临沂市', '临沂', '370000', 'Linyi', '0539'),
    ('371400', '德州市', '德州', '370000', 'Dezhou', '0534'),
    ('371500', '聊城市', '聊城', '370000', 'Liaocheng', '0635'),
    ('371600', '滨州市', '滨州', '370000', 'Binzhou', '0543'),
    ('371700', '菏泽市', '菏泽', '370000', 'Heze', '0530'),
    ('410100', '郑州市', '郑州', '410000', 'Zhengzhou', '0371'),
    ('410200', '开封市', '开封', '410000', 'Kaifeng', '0378'),
    ('410300', '洛阳市', '洛阳', '410000', 'Luoyang', '0379'),
    ('410400', '平顶山市', '平顶山', '410000', 'Pingdingshan', '0375'),
    ('410500', '安阳市', '安阳', '410000', 'Anyang', '0372'),
    ('410600', '鹤壁市', '鹤壁', '410000', 'Hebi', '0392'),
    ('410700', '新乡市', '新乡', '410000', 'Xinxiang', '0373'),
    ('410800', '焦作市', '焦作', '410000', 'Jiaozuo', '0391'),
    ('410900', '濮阳市', '濮阳', '410000', 'Puyang', '0393'),
    ('411000', '许昌市', '许昌', '410000', 'Xuchang', '0374'),
    ('411100', '漯河市', '漯河', '410000', 'Luohe', '0395'),
    ('411200', '三门峡市', '三门峡', '410000', 'Sanmenxia', '0398'),
    ('411300', '南阳市', '南阳', '410000', 'Nanyang', '0377'),
    ('411400', '商丘市', '商丘', '410000', 'Shangqiu', '0370'),
    ('411500', '信阳市', '信阳', '410000', 'Xinyang', '0376'),
    ('411600', '周口市', '周口', '410000', 'Zhoukou', '0394'),
    ('411700', '驻马店市', '驻马店', '410000', 'Zhumadian', '0396'),
    ('420100', '武汉市', '武汉', '420000', 'Wuhan', NULL),
    ('420200', '黄石市', '黄石', '420000', 'Huangshi', '0714'),
    ('420300', '十堰市', '十堰', '420000', 'Shiyan', '0719'),
    ('420500', '宜昌市', '宜昌', '420000', 'Yichang', '0717'),
    ('420600', '襄阳市', '襄阳', '420000', 'Xiangyang', '0710'),
    ('420700', '鄂州市', '鄂州', '420000', 'Ezhou', '0711'),
    ('420800', '荆门市', '荆门', '420000', 'Jingmen', '0724'),
    ('420900', '孝感市', '孝感', '420000', 'Xiaogan', '0712'),
    ('421000', '荆州市', '荆州', '420000', 'Jingzhou', '0716'),
    ('421100', '黄冈市', '黄冈', '420000', 'Huanggang', '0713'),
    ('421200', '咸宁市', '咸宁', '420000', 'Xianning', '0715'),
    ('421300', '随州市', '随州', '420000', 'Suizhou', '0722'),
    ('422800', '恩施土家族苗族自治州', '恩施', '420000', 'Enshi', '0718'),
    ('430100', '长沙市', '长沙', '430000', 'Changsha', '0731'),
    ('430200', '株洲市', '株洲', '430000', 'Zhuzhou', '0731'),
    ('430300', '湘潭市', '湘潭', '430000', 'Xiangtan', '0731'),
    ('430400', '衡阳市', '衡阳', '430000', 'Hengyang', '0734'),
    ('430500', '邵阳市', '邵阳', '430000', 'Shaoyang', '0739'),
    ('430600', '岳阳市', '岳阳', '430000', 'Yueyang', '0730'),
    ('430700', '常德市', '常德', '430000', 'Changde', '0736'),
    ('430800', '张家界市', '张家界', '430000', 'Zhangjiajie', '0744'),
    ('430900', '益阳市', '益阳', '430000', 'Yiyang', '0737'),
    ('431000', '郴州市', '郴州', '430000', 'Chenzhou', '0735'),
    ('431100', '永州市', '永州', '430000', 'Yongzhou', '0746'),
    ('431200', '怀化市', '怀化', '430000', 'Huaihua', '0745'),
    ('431300', '娄底市', '娄底', '430000', 'Loudi', '0738'),
    ('433100', '湘西土家族苗族自治州', '湘西', '430000', 'Xiangxi', '0743'),
    ('440100', '广州市', '广州', '440000', 'Guangzhou', '020'),
    ('440200', '韶关市', '韶关', '440000', 'Shaoguan', '0751'),
    ('440300', '深圳市', '深圳', '440000', 'Shenzhen', '0755'),
    ('440400', '珠海市', '珠海', '440000', 'Zhuhai', '0756'),
    ('440500', '汕头市', '汕头', '440000', 'Shantou', '0754'),
    ('440600', '佛山市', '佛山', '440000', 'Foshan', '0757'),
    ('440700', '江门市', '江门', '440000', 'Jiangmen', '0750'),
    ('440800', '湛江市', '湛江', '440000', 'Zhanjiang', '0759'),
    ('440900', '茂名市', '茂名', '440000', 'Maoming', '0668'),
    ('441200', '肇庆市', '肇庆', '440000', 'Zhaoqing', '0758'),
    ('441300', '惠州市', '惠州', '440000', 'Huizhou', '0752'),
    ('441400', '梅州市', '梅州', '440000', 'Meizhou', '0753'),
    ('441500', '汕尾市', '汕尾', '440000', 'Shanwei', '0660'),
    ('441600', '河源市', '河源', '440000', 'Heyuan', '0762'),
    ('441700', '阳江市', '阳江', '440000', 'Yangjiang', '0662'),
    ('441800', '清远市', '清远', '440000', 'Qingyuan', '0763'),
    ('441900', '东莞市', '东莞', '440000', 'Dongguan', '0769'),
    ('442000', '中山市', '中山', '440000', 'Zhongshan', '0760'),
    ('445100', '潮州市', '潮州', '440000', 'Chaozhou', '0768'),
    ('445200', '揭阳市', '揭阳', '440000', 'Jieyang', '0633'),
    ('445300', '云浮市', '云浮', '440000', 'Yunfu', '0766'),
    ('450100', '南宁市', '南宁', '450000', 'Nanning', '0771'),
    ('450200', '柳州市', '柳州', '450000', 'Liuzhou', '0772'),
    ('450300', '桂林市', '桂林', '450000', 'Guilin', '0773'),
    ('450400', '梧州市', '梧州', '450000', 'Wuzhou', '0774'),
    ('450500', '北海市', '北海', '450000', 'Beihai', '0779'),
    ('450600', '防城港市', '防城港', '450000', 'Fangchenggang', '0770'),
    ('450700', '钦州市', '钦州', '450000', 'Qinzhou', '0777'),
    ('450800', '贵港市', '贵港', '450000', 'Guigang', '0775'),
    ('450900', '玉林市', '玉林', '450000', 'Yulin', '0775'),
    ('451000', '百色市', '百色', '450000', 'Baise', '0776'),
    ('451100', '贺州市', '贺州', '450000', 'Hezhou', '0774'),
    ('451200', '河池市', '河池', '450000', 'Hechi', '0778'),
    ('451300', '来宾市', '来宾', '450000', 'Laibin', '0772'),
    ('451400', '崇左市', '崇左', '450000', 'Chongzuo', '0771'),
    ('460100', '海口市', '海口', '460000', 'Haikou', '0898'),
    ('460200', '三亚市', '三亚', '460000', 'Sanya', '0898'),
    ('460300', '三沙市', '三沙', '460000', 'Sansha', '0898'),
    ('500100', '重庆市', '重庆', '500000', 'Chongqing', '023'),
    ('500300', '两江新区', '两江新区', '500000', 'Liangjiangxinqu', '023'),
    ('510100', '成都市', '成都', '510000', 'Chengdu', '028'),
    ('510300', '自贡市', '自贡', '510000', 'Zigong', '0813'),
    ('510400', '攀枝花市', '攀枝花', '510000', 'Panzhihua', '0812'),
    ('510500', '泸州市', '泸州', '510000', 'Luzhou', '0830'),
    ('510600', '德阳市', '德阳', '510000', 'Deyang', '0838'),
    ('510700', '绵阳市', '绵阳', '510000', 'Mianyang', '0816'),
    ('510800', '广元市', '广元', '510000', 'Guangyuan', '0839'),
    ('510900', '遂宁市', '遂宁', '510000', 'Suining', '0825'),
    ('511000', '内江市', '内江', '510000', 'Neijiang', '0832'),
    ('511100', '乐山市', '乐山', '510000', 'Leshan', '0833'),
    ('511300', '南充市', '南充', '510000', 'Nanchong', '0817'),
    ('511400', '眉山市', '眉山', '510000', 'Meishan', '028'),
    ('511500', '宜宾市', '宜宾', '510000', 'Yibin', '0831'),
    ('511600', '广安市', '广安', '510000', 'Guang''an', '0826'),
    ('511700', '达州市', '达州', '510000', 'Dazhou', '0818'),
    ('511800', '雅安市', '雅安', '510000', 'Ya''an', '0835'),
    ('511900', '巴中市', '巴中', '510000', 'Bazhong', '0827'),
    ('512000', '资阳市', '资阳', '510000', 'Ziyang', '028'),
    ('513200', '阿坝藏族羌族自治州', '阿坝', '510000', 'Aba', '0837'),
    ('513300', '甘孜藏族自治州', '甘孜', '510000', 'Garze', '0836'),
    ('513400', '凉山彝族自治州', '凉山', '510000', 'Liangshan', '0834'),
    ('520100', '贵阳市', '贵阳', '520000', 'Guiyang', '0851'),
    ('520200', '六盘水市', '六盘水', '520000', 'Liupanshui', '0858'),
    ('520300', '遵义市', '遵义', '520000', 'Zunyi', '0852'),
    ('520400', '安顺市', '安顺', '520000', 'Anshun', '0853'),
    ('520500', '毕节市', '毕节', '520000', 'Bijie', '0857'),
    ('520600', '铜仁市', '铜仁', '520000', 'Tongren', '0856'),
    ('522300', '黔西南布依族苗族自治州', '黔西南', '520000', 'Qianxinan', '0859'),
    ('522600', '黔东南苗族侗族自治州', '黔东南', '520000', 'Qiandongnan', '0855'),
    ('522700', '黔南布依族苗族自治州', '黔南', '520000', 'Qiannan', '0854'),
    ('530100', '昆明市', '昆明', '530000', 'Kunming', '0871'),
    ('530300', '曲靖市', '曲靖', '530000', 'Qujing', '0874'),
    ('530400', '玉溪市', '玉溪', '530000', 'Yuxi', '0877'),
    ('530500', '保山市', '保山', '530000', 'Baoshan', '0875'),
    ('530600', '昭通市', '昭通', '530000', 'Zhaotong', '0870'),
    ('530700', '丽江市', '丽江', '530000', 'Lijiang', '0888'),
    ('530800', '普洱市', '普洱', '530000', 'Pu''er', '0879'),
    ('530900', '临沧市', '临沧', '530000', 'Lincang', '0883'),
    ('532300', '楚雄彝族自治州', '楚雄', '530000', 'Chuxiong', '0878'),
    ('532500', '红河哈尼族彝族自治州', '红河', '530000', 'Honghe', '0873'),
    ('532600', '文山壮族苗族自治州', '文山', '530000', 'Wenshan', '0876'),
    ('532800', '西双版纳傣族自治州', '西双版纳', '530000', 'Xishuangbanna', '0691'),
    ('532900', '大理白族自治州', '大理', '530000', 'Dali', '0872'),
    ('533100', '德宏傣族景颇族自治州', '德宏', '530000', 'Dehong', '0692'),
    ('533300', '怒江傈僳族自治州', '怒江', '530000', 'Nujiang', '0886'),
    ('533400', '迪庆藏族自治州', '迪庆', '530000', 'Deqen', '0887'),
    ('540100', '拉萨市', '拉萨', '540000', 'Lhasa', '0891'),
    ('540200', '日喀则市', '日喀则', '540000', 'Rikaze', '0892'),
    ('540300', '昌都市', '昌都', '540000', 'Qamdo', '0895'),
    ('542200', '山南地区', '山南', '540000', 'Shannan', '0893'),
    ('542400', '那曲地区', '那曲', '540000', 'Nagqu', '0896'),
    ('542500', '阿里地区', '阿里', '540000', 'Ngari', '0897'),
    ('542600', '林芝地区', '林芝', '540000', 'Nyingchi', '0894'),
    ('610100', '西安市', '西安', '610000', 'Xi''an', '029'),
    ('610200', '铜川市', '铜川', '610000', 'Tongchuan', '0919'),
    ('610300', '宝鸡市', '宝鸡', '610000', 'Baoji', '0917'),
    ('610400', '咸阳市', '咸阳', '610000', 'Xianyang', '029'),
    ('610500', '渭南市', '渭南', '610000', 'Weinan', '0913'),
    ('610600', '延安市', '延安', '610000', 'Yan''an', '0911'),
    ('610700', '汉中市', '汉中', '610000', 'Hanzhong', '0916'),
    ('610800', '榆林市', '榆林', '610000', 'Yulin', '0912'),
    ('610900', '安康市', '安康', '610000', 'Ankang', '0915'),
    ('611000', '商洛市', '商洛', '610000', 'Shangluo', '0914'),
    ('611100', '西咸新区', '西咸', '610000', 'Xixian', '029'),
    ('620100', '兰州市', '兰州', '620000', 'Lanzhou', '0931'),
    ('620200', '嘉峪关市', '嘉峪关', '620000', 'Jiayuguan', '0937'),
    ('620300', '金昌市', '金昌', '620000', 'Jinchang', '0935'),
    ('620400', '白银市', '白银', '620000', 'Baiyin', '0943'),
    ('620500', '天水市', '天水', '620000', 'Tianshui', '0938'),
    ('620600', '武威市', '武威', '620000', 'Wuwei', '0935'),
    ('620700', '张掖市', '张掖', '620000', 'Zhangye', '0936'),
    ('620800', '平凉市', '平凉', '620000', 'Pingliang', '0933'),
    ('620900', '酒泉市', '酒泉', '620000', 'Jiuquan', '0937'),
    ('621000', '庆阳市', '庆阳', '620000', 'Qingyang', '0934'),
    ('621100', '定西市', '定西', '620000', 'Dingxi', '0932'),
    ('621200', '陇南市', '陇南', '620000', 'Longnan', '0939'),
    ('622900', '临夏回族自治州', '临夏', '620000', 'Linxia', '0930'),
    ('623000', '甘南藏族自治州', '甘南', '620000', 'Gannan', '0941'),
    ('630100', '西宁市', '西宁', '630000', 'Xining', '0971'),
    ('630200', '海东市', '海东', '630000', 'Haidong', '0972'),
    ('632200', '海北藏族自治州', '海北', '630000', 'Haibei', '0970'),
    ('632300', '黄南藏族自治州', '黄南', '630000', 'Huangnan', '0973'),
    ('632500', '海南藏族自治州', '海南', '630000', 'Hainan', '0974'),
    ('632600', '果洛藏族自治州', '果洛', '630000', 'Golog', '0975'),
    ('632700', '玉树藏族自治州', '玉树', '630000', 'Yushu', '0976'),
    ('632800', '海西蒙古族藏族自治州', '海西', '630000', 'Haixi', '0977'),
    ('640100', '银川市', '银川', '640000', 'Yinchuan', '0951'),
    ('640200', '石嘴山市', '石嘴山', '640000', 'Shizuishan', '0952'),
    ('640300', '吴忠市', '吴忠', '640000', 'Wuzhong', '0953'),
    ('640400', '固原市', '固原', '640000', 'Guyuan', '0954'),
    ('640500', '中卫市', '中卫', '640000', 'Zhongwei', '0955'),
    ('650100', '乌鲁木齐市', '乌鲁木齐', '650000', 'Urumqi', '0991'),
    ('650200', '克拉玛依市', '克拉玛依', '650000', 'Karamay', '0990'),
    ('652100', '吐鲁番地区', '吐鲁番', '650000', 'Turpan', '0995'),
    ('652200', '哈密地区', '哈密', '650000', 'Hami', '0902'),
    ('652300', '昌吉回族自治州', '昌吉', '650000', 'Changji', '0994'),
    ('652700', '博尔塔拉蒙古自治州', '博尔塔拉', '650000', 'Bortala', '0909'),
    ('652800', '巴音郭楞蒙古自治州', '巴音郭楞', '650000', 'Bayingol', '0996'),
    ('652900', '阿克苏地区', '阿克苏', '650000', 'Aksu', '0997'),
    ('653000', '克孜勒苏柯尔克孜自治州', '克孜勒苏', '650000', 'Kizilsu', '0908'),
    ('653100', '喀什地区', '喀什', '650000', 'Kashgar', '0998'),
    ('653200', '和田地区', '和田', '650000', 'Hotan', '0903'),
    ('654000', '伊犁哈萨克自治州', '伊犁', '650000', 'Ili', '0999'),
    ('654200', '塔城地区', '塔城', '650000', 'Qoqek', '0901'),
    ('654300', '阿勒泰地区', '阿勒泰', '650000', 'Altay', '0906'),
    ('710100', '台北市', '台北', '710000', 'Taipei', '02'),
    ('710200', '高雄市', '高雄', '710000', 'Kaohsiung', '07'),
    ('710300', '基隆市', '基隆', '710000', 'Keelung', '02'),
    ('710400', '台中市', '台中', '710000', 'Taichung', '04'),
    ('710500', '台南市', '台南', '710000', 'Tainan', '06'),
    ('710600', '新竹市', '新竹', '710000', 'Hsinchu', '03'),
    ('710700', '嘉义市', '嘉义', '710000', 'Chiayi', '05'),
    ('710800', '新北市', '新北', '710000', 'New Taipei', '02'),
    ('712200', '宜兰县', '宜兰', '710000', 'Yilan', '03'),
    ('712300', '桃园县', '桃园', '710000', 'Taoyuan', '03'),
    ('712400', '新竹县', '新竹', '710000', 'Hsinchu', '03'),
    ('712500', '苗栗县', '苗栗', '710000', 'Miaoli', '037'),
    ('712700', '彰化县', '彰化', '710000', 'Changhua', '04'),
    ('712800', '南投县', '南投', '710000', 'Nantou', '049'),
    ('712900', '云林县', '云林', '710000', 'Yunlin', '05'),
    ('713000', '嘉义县', '嘉义', '710000', 'Chiayi', '05'),
    ('713300', '屏东县', '屏东', '710000', 'Pingtung', '08'),
    ('713400', '台东县', '台东', '710000', 'Taitung', '089'),
    ('713500', '花莲县', '花莲', '710000', 'Hualien', '03'),
    ('713600', '澎湖县', '澎湖', '710000', 'Penghu', '06'),
    ('713700', '金门县', '金门', '710000', 'Jinmen', '082'),
    ('713800', '连江县', '连江', '710000', 'Lienchiang', '0836'),
    ('810100', '香港岛', '香港岛', '810000', 'Hong Kong Island', '00852'),
    ('810200', '九龙', '九龙', '810000', 'Kowloon', '00852'),
    ('810300', '新界', '新界', '810000', 'New Territories', '00852'),
    ('820100', '澳门半岛', '澳门半岛', '820000', 'MacauPeninsula', '00853'),
    ('820200', '氹仔岛', '氹仔岛', '820000', 'Taipa', '00853'),
    ('820300', '路环岛', '路环岛', '820000', 'Coloane', '00853');
-- END generated city rows
UPDATE @extschema@.city SET builtin = true;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.city', 'WHERE NOT builtin');

CREATE TABLE @extschema@.city_alias (
    alias text PRIMARY KEY CHECK (alias <> ''),
    city_code text REFERENCES @extschema@.city ON UPDATE CASCADE ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('name', 'short_name', 'pinyin', 'abbreviation', 'custom')),
    candidates text[] NOT NULL DEFAULT '{}',
    builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.city_alias IS 'Every spelling that names a city (城市别名): names, short names, pinyin, initials, and aliases users add (kind custom); city_code NULL marks an ambiguous alias';
COMMENT ON COLUMN @extschema@.city_alias.alias IS 'Spelling in matching form: normalised (cdp.normalize_text), lower case, without spaces and punctuation';
COMMENT ON COLUMN @extschema@.city_alias.city_code IS 'City the alias names; NULL when it names several and none is the provincial capital';
COMMENT ON COLUMN @extschema@.city_alias.kind IS 'name, short_name, pinyin, abbreviation (pinyin initials) or custom';
COMMENT ON COLUMN @extschema@.city_alias.candidates IS 'Codes of all cities the alias collides on (empty when it names one city only)';
COMMENT ON COLUMN @extschema@.city_alias.builtin IS 'true for the aliases shipped with cdp; pg_dump keeps only the others';

-- the matching form of a spelling (used for aliases and for city_key input)
CREATE FUNCTION @extschema@.city_alias_form(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.regexp_replace(@extschema@.normalize_text(name),
                                     '[[:space:][:punct:]·・]+', '', 'g');
END;
COMMENT ON FUNCTION @extschema@.city_alias_form(text) IS 'A city spelling in the form cdp.city_alias stores: normalised, lower case, spaces and punctuation removed (Guang Zhou -> guangzhou)';

-- the built-in aliases; a collision resolves as described at the top
WITH spelled AS (
    SELECT c.city_code, v.kind, v.prio, @extschema@.city_alias_form(v.alias) AS alias
      FROM @extschema@.city c
     CROSS JOIN LATERAL (VALUES
           (c.name, 'name', 1),
           (c.short_name, 'short_name', 2),
           (c.pinyin, 'pinyin', 3),
           (CASE WHEN pg_catalog.length(c.short_name) >= 2
                 THEN pg_catalog.lower(pg_catalog.left(pg_catalog.regexp_replace(c.pinyin, '[^A-Za-z]', '', 'g'), 1))
                      || pg_catalog.substr(@extschema@.pinyin_initials(c.short_name), 2)
            END, 'abbreviation', 4)) v(alias, kind, prio)
     WHERE v.alias IS NOT NULL
),
best AS (
    SELECT s.alias, s.kind, s.city_code
      FROM spelled s
     WHERE s.alias <> ''
       AND s.prio = (SELECT min(s2.prio) FROM spelled s2 WHERE s2.alias = s.alias)
),
grouped AS (
    SELECT b.alias, min(b.kind) AS kind,
           pg_catalog.array_agg(DISTINCT b.city_code ORDER BY b.city_code) AS codes
      FROM best b
     GROUP BY b.alias
)
INSERT INTO @extschema@.city_alias (alias, city_code, kind, candidates, builtin)
SELECT g.alias,
       CASE WHEN pg_catalog.cardinality(g.codes) = 1 THEN g.codes[1]
            WHEN (SELECT count(*) FROM pg_catalog.unnest(g.codes) x WHERE x LIKE '__0100') = 1
            THEN (SELECT x FROM pg_catalog.unnest(g.codes) x WHERE x LIKE '__0100')
       END,
       g.kind,
       CASE WHEN pg_catalog.cardinality(g.codes) > 1 THEN g.codes ELSE '{}' END,
       true
  FROM grouped g;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.city_alias', 'WHERE NOT builtin');

-- STABLE, not IMMUTABLE: the answer depends on cdp.city_alias, which users
-- may extend
CREATE FUNCTION @extschema@.city_key(name text) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT c.name
      FROM (SELECT @extschema@.city_alias_form(name) AS k) f
     CROSS JOIN LATERAL (VALUES (1, f.k),
                                (2, pg_catalog.regexp_replace(f.k, '(市|地区|city|shi)$', ''))) v(ord, form)
      JOIN @extschema@.city_alias a ON a.alias OPERATOR(pg_catalog.=) v.form
      LEFT JOIN @extschema@.city c ON c.city_code OPERATOR(pg_catalog.=) a.city_code
     ORDER BY v.ord
     LIMIT 1;
END;
COMMENT ON FUNCTION @extschema@.city_key(text) IS 'Canonical city (official name, e.g. 广州市) for 广州 / 廣州市 / Guangzhou / guang zhou / GZ style input; NULL for unknown or ambiguous input, never a guess';
